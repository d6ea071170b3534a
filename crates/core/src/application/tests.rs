use super::*;

fn day(text: &str) -> NaiveDate {
    parse_date(text).unwrap_or(NaiveDate::MIN)
}

const TODAY: &str = "2026-11-26";

fn form() -> ApplicationForm {
    ApplicationForm {
        consent: Some(true),
        real_name: Some("John Smith".into()),
        nationality: Some("USA".into()),
        date_of_birth: Some("1990-05-17".into()),
        phone: Some("13800138000".into()),
        documents: Some(DocumentsForm {
            passport: Some(PassportForm {
                number: Some("E12345678".into()),
                expiry_date: Some("2030-01-01".into()),
            }),
            stay_permit: Some(StayPermitForm {
                kind: Some("entry_record".into()),
                entry_date: Some("2026-10-01".into()),
                ..StayPermitForm::default()
            }),
        }),
        sex: Some("male".into()),
        occupation: Some(OccupationForm {
            category: Some("office_worker".into()),
            title: None,
        }),
        address: Some("Room 1201, 88 Jianguo Road, Chaoyang, Beijing".into()),
        pep: Some(PepForm {
            declared: Some(false),
            role: None,
        }),
    }
}

fn stay(f: &mut ApplicationForm) -> &mut StayPermitForm {
    f.documents
        .get_or_insert_with(Default::default)
        .stay_permit
        .get_or_insert_with(Default::default)
}

fn passport(f: &mut ApplicationForm) -> &mut PassportForm {
    f.documents
        .get_or_insert_with(Default::default)
        .passport
        .get_or_insert_with(Default::default)
}

fn breaches(f: &ApplicationForm) -> Vec<(String, Code)> {
    match check_new_application(f, day(TODAY)) {
        Ok(_) => Vec::new(),
        Err(report) => report
            .breaches
            .into_iter()
            .map(|b| (b.field, b.code))
            .collect(),
    }
}

fn one(field: &str, code: Code) -> Vec<(String, Code)> {
    vec![(field.to_owned(), code)]
}

#[test]
fn a_good_form_passes_with_no_warning() {
    let checked = check_new_application(&form(), day(TODAY)).unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(checked.warnings, []);
    assert_eq!(checked.value.real_name.as_str(), "John Smith");
    assert_eq!(checked.value.document_numbers().len(), 1);
    assert_eq!(checked.value.earliest_expiry(), Some(day("2030-01-01")));
}

#[test]
fn consent_is_required_for_a_new_application() {
    for consent in [None, Some(false)] {
        let f = ApplicationForm { consent, ..form() };
        assert_eq!(breaches(&f), one("consent", Code::ConsentRequired));
        // Editing a draft does not ask again.
        assert!(check_identity(&f, day(TODAY)).is_ok());
    }
}

#[test]
fn a_warning_does_not_block() {
    let f = ApplicationForm {
        phone: Some("+852-9123-4567".into()),
        ..form()
    };
    let checked = check_new_application(&f, day(TODAY)).unwrap_or_else(|r| panic!("{r:?}"));
    let warnings: Vec<_> = checked
        .warnings
        .iter()
        .map(|w| (w.field.as_str(), w.code))
        .collect();
    assert_eq!(warnings, [("phone", Code::PhoneNotRecommended)]);
}

#[test]
fn every_breach_of_an_empty_form_at_once() {
    let got = breaches(&ApplicationForm::default());
    let want = [
        ("consent", Code::ConsentRequired),
        ("real_name", Code::FieldRequired),
        ("nationality", Code::FieldRequired),
        ("date_of_birth", Code::FieldRequired),
        ("phone", Code::FieldRequired),
        ("documents.stay_permit", Code::StayPermitRequired),
        ("documents.passport", Code::PassportRequired),
    ];
    assert_eq!(got, want.map(|(f, c)| (f.to_owned(), c)));
}

#[test]
fn many_breaches_of_one_form_at_once() {
    let mut f = form();
    f.real_name = Some("J".into());
    f.nationality = Some("CHN".into());
    f.date_of_birth = Some("2010-01-01".into());
    f.phone = Some("91234567".into());
    passport(&mut f).number = Some("E1".into());
    stay(&mut f).entry_date = Some("2027-01-01".into());
    let codes: Vec<Code> = breaches(&f).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        codes,
        [
            Code::NameTooShort,
            Code::NationalityNotForeign,
            Code::ApplicantUnder18,
            Code::PhoneNeedsCountryCode,
            Code::EntryDateInvalid,
            Code::PassportNumberInvalid,
        ]
    );
}

#[test]
fn applicant_rules_through_the_form() {
    let with = |f: fn(&mut ApplicationForm)| {
        let mut x = form();
        f(&mut x);
        breaches(&x)
    };
    assert_eq!(
        with(|f| f.real_name = Some("John_Smith".into())),
        one("real_name", Code::NameInvalidCharacters)
    );
    assert_eq!(
        with(|f| f.real_name = Some("A".repeat(65))),
        one("real_name", Code::NameTooLong)
    );
    assert_eq!(
        with(|f| f.nationality = Some("XYZ".into())),
        one("nationality", Code::NationalityInvalid)
    );
    assert_eq!(
        with(|f| f.date_of_birth = Some("2027-01-01".into())),
        one("date_of_birth", Code::DateOfBirthInvalid)
    );
    assert_eq!(
        with(|f| f.date_of_birth = Some("1990-02-30".into())),
        one("date_of_birth", Code::DateOfBirthInvalid)
    );
    assert_eq!(
        with(|f| f.phone = Some("138 0013 8000".into())),
        one("phone", Code::PhoneInvalidCharacters)
    );
    assert_eq!(
        with(|f| f.phone = Some(format!("+{}", "1".repeat(21)))),
        one("phone", Code::PhoneTooLong)
    );
    assert_eq!(
        with(|f| f.phone = Some("12345678901".into())),
        one("phone", Code::PhoneInvalid)
    );
}

#[test]
fn the_day_of_the_18th_birthday_is_still_under_18() {
    let f = ApplicationForm {
        date_of_birth: Some("2008-11-26".into()),
        ..form()
    };
    assert_eq!(breaches(&f), one("date_of_birth", Code::ApplicantUnder18));
    let f = ApplicationForm {
        date_of_birth: Some("2008-11-25".into()),
        ..form()
    };
    assert_eq!(breaches(&f), []);
    // Born on 29 February: 18 full years from 1 March, whatever the year.
    let mut leap = ApplicationForm {
        date_of_birth: Some("2008-02-29".into()),
        ..form()
    };
    stay(&mut leap).entry_date = Some("2026-01-10".into());
    assert!(check_identity(&leap, day("2026-02-28")).is_err());
    assert!(check_identity(&leap, day("2026-03-01")).is_ok());
}

#[test]
fn passport_rules() {
    let mut f = form();
    if let Some(d) = f.documents.as_mut() {
        d.passport = None;
    }
    assert_eq!(
        breaches(&f),
        one("documents.passport", Code::PassportRequired)
    );

    let mut f = form();
    passport(&mut f).number = Some("E-1234".into());
    assert_eq!(
        breaches(&f),
        one("documents.passport.number", Code::PassportNumberInvalid)
    );

    let mut f = form();
    passport(&mut f).expiry_date = Some("2026-11-25".into());
    assert_eq!(
        breaches(&f),
        one("documents.passport", Code::DocumentExpired)
    );
    passport(&mut f).expiry_date = Some(TODAY.into());
    assert_eq!(breaches(&f), []);
    passport(&mut f).expiry_date = Some("next year".into());
    assert_eq!(
        breaches(&f),
        one("documents.passport.expiry_date", Code::ExpiryDateInvalid)
    );
    passport(&mut f).expiry_date = None;
    assert_eq!(
        breaches(&f),
        one("documents.passport.expiry_date", Code::FieldRequired)
    );
}

#[test]
fn stay_permit_rules() {
    let mut f = form();
    if let Some(d) = f.documents.as_mut() {
        d.stay_permit = None;
    }
    assert_eq!(
        breaches(&f),
        one("documents.stay_permit", Code::StayPermitRequired)
    );

    let mut f = form();
    stay(&mut f).kind = Some("visa".into());
    assert_eq!(
        breaches(&f),
        one("documents.stay_permit.kind", Code::StayPermitKindInvalid)
    );

    let mut f = form();
    stay(&mut f).entry_date = Some("2026-11-27".into());
    assert_eq!(
        breaches(&f),
        one("documents.stay_permit.entry_date", Code::EntryDateInvalid)
    );
    stay(&mut f).entry_date = Some("1 Oct".into());
    assert_eq!(
        breaches(&f),
        one("documents.stay_permit.entry_date", Code::EntryDateInvalid)
    );

    let mut f = form();
    *stay(&mut f) = StayPermitForm {
        kind: Some("residence_permit".into()),
        number: Some("X12".into()),
        expiry_date: Some("2020-01-01".into()),
        entry_date: None,
    };
    assert_eq!(
        breaches(&f),
        [
            (
                "documents.stay_permit.number".to_owned(),
                Code::StayPermitNumberInvalid
            ),
            ("documents.stay_permit".to_owned(), Code::DocumentExpired),
        ]
    );
    stay(&mut f).number = Some("RP2026123".into());
    stay(&mut f).expiry_date = Some("2028-01-01".into());
    assert_eq!(breaches(&f), []);
}

#[test]
fn a_permanent_residence_card_stands_alone() {
    let mut f = form();
    f.documents = Some(DocumentsForm {
        passport: None,
        stay_permit: Some(StayPermitForm {
            kind: Some("permanent_residence_card".into()),
            number: Some("931840198506150015".into()),
            expiry_date: Some("2031-06-30".into()),
            entry_date: None,
        }),
    });
    let checked = check_new_application(&f, day(TODAY)).unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(checked.value.passport, None);
    assert_eq!(checked.value.document_numbers().len(), 1);

    stay(&mut f).number = Some("931840198506150016".into());
    assert_eq!(
        breaches(&f),
        one(
            "documents.stay_permit.number",
            Code::PermanentResidenceCardNumberInvalid
        )
    );
    stay(&mut f).number = Some("KAZ110090123105".into());
    stay(&mut f).expiry_date = Some("2026-01-01".into());
    assert_eq!(
        breaches(&f),
        one("documents.stay_permit", Code::DocumentExpired)
    );
}

fn card() -> BankCardForm {
    BankCardForm {
        bank: Some("ICBC".into()),
        card_number: Some("6222020000000000018".into()),
        card_type: Some("savings".into()),
        account_type: Some("current".into()),
        account_name: Some("JOHN SMITH".into()),
    }
}

fn submit(
    f: &ApplicationForm,
    card: Option<&BankCardForm>,
    images: &[ImageSlot],
    today: &str,
) -> Result<Submission, Report> {
    let policy = Policy::default_policy();
    check_submission(&SubmissionInput {
        form: f,
        bank_card: card,
        images,
        policy: &policy,
        today: day(today),
    })
}

#[test]
fn a_complete_submission_passes() {
    let s =
        submit(&form(), Some(&card()), &ImageSlot::ALL, TODAY).unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(s.bank_card.bank, "ICBC");
    assert_eq!(s.identity.real_name.as_str(), "John Smith");
}

#[test]
fn a_submission_needs_the_card_and_the_images() {
    let report = submit(&form(), None, &[], TODAY).err().unwrap_or_default();
    let got: Vec<_> = report
        .breaches
        .iter()
        .map(|b| (b.field.as_str(), b.code))
        .collect();
    assert_eq!(
        got,
        [
            ("bank_card", Code::FieldRequired),
            ("images.passport_photo_page", Code::DocumentImageRequired),
            ("images.stay_permit", Code::DocumentImageRequired),
        ]
    );
}

#[test]
fn a_draft_may_lack_the_due_diligence_fields_but_a_submission_may_not() {
    let mut f = form();
    f.sex = None;
    f.occupation = None;
    f.address = None;
    f.pep = Some(PepForm {
        declared: Some(true),
        role: None,
    });
    assert_eq!(breaches(&f), one("pep.role", Code::PepRoleRequired));
    f.pep = None;
    assert_eq!(breaches(&f), []);
    let report = submit(&f, Some(&card()), &ImageSlot::ALL, TODAY)
        .err()
        .unwrap_or_default();
    assert_eq!(
        report.codes(),
        [
            Code::SexRequired,
            Code::OccupationRequired,
            Code::AddressRequired,
            Code::PepDeclarationRequired
        ]
    );
    // A bad value is reported once, as bad, not also as missing.
    f.sex = Some("M".into());
    let report = submit(&f, Some(&card()), &ImageSlot::ALL, TODAY)
        .err()
        .unwrap_or_default();
    assert_eq!(
        report.codes()[..2],
        [Code::OccupationRequired, Code::AddressRequired]
    );
    assert!(report.codes().contains(&Code::SexInvalid));
    assert!(!report.codes().contains(&Code::SexRequired));
}

#[test]
fn an_identity_sealed_before_the_due_diligence_fields_reads_without_them() {
    let checked = check_identity(&form(), day(TODAY)).unwrap_or_else(|r| panic!("{r:?}"));
    let mut old = serde_json::to_value(&checked.value).unwrap_or_default();
    for field in ["sex", "occupation", "address", "pep"] {
        assert!(old.as_object_mut().and_then(|o| o.remove(field)).is_some());
    }
    let read: Identity = serde_json::from_value(old).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.diligence, Diligence::default());
    assert_eq!(read.real_name, checked.value.real_name);
}

#[test]
fn submission_rechecks_on_its_own_day() {
    let mut f = form();
    passport(&mut f).expiry_date = Some("2026-12-01".into());
    assert!(submit(&f, Some(&card()), &ImageSlot::ALL, "2026-12-01").is_ok());
    let report = submit(&f, Some(&card()), &ImageSlot::ALL, "2026-12-02")
        .err()
        .unwrap_or_default();
    assert_eq!(report.codes(), [Code::DocumentExpired]);
}

#[test]
fn submission_reports_card_breaches_beside_identity_ones() {
    let mut f = form();
    f.phone = Some("91234567".into());
    let mut c = card();
    c.account_name = Some("Jane Smith".into());
    let report = submit(&f, Some(&c), &[ImageSlot::PassportPhotoPage], TODAY)
        .err()
        .unwrap_or_default();
    assert_eq!(
        report.codes(),
        [
            Code::PhoneNeedsCountryCode,
            Code::AccountNameMismatch,
            Code::DocumentImageRequired
        ]
    );
}

#[test]
fn a_permanent_residence_card_needs_only_its_own_image() {
    let mut f = form();
    f.documents = Some(DocumentsForm {
        passport: None,
        stay_permit: Some(StayPermitForm {
            kind: Some("permanent_residence_card".into()),
            number: Some("931840198506150015".into()),
            expiry_date: Some("2031-06-30".into()),
            entry_date: None,
        }),
    });
    assert!(submit(&f, Some(&card()), &[ImageSlot::StayPermit], TODAY).is_ok());
}

#[test]
fn forms_deserialise_from_the_api_shape() {
    let json = r#"{"consent": true, "real_name": "John Smith", "nationality": "USA",
        "date_of_birth": "1990-05-17", "phone": "13800138000",
        "documents": {"passport": {"number": "E12345678", "expiry_date": "2030-01-01"},
                      "stay_permit": {"kind": "entry_record", "entry_date": "2026-10-01"}},
        "sex": "male", "occupation": {"category": "office_worker"},
        "address": "Room 1201, 88 Jianguo Road, Chaoyang, Beijing",
        "pep": {"declared": false}}"#;
    let parsed: ApplicationForm = serde_json::from_str(json).unwrap_or_default();
    assert_eq!(parsed, form());
}

#[test]
fn a_card_that_was_returned_or_is_bound_elsewhere() {
    assert!(CardHistory::default().check().is_clean());
    let both = CardHistory {
        returned_by_bank: true,
        bound_to_another_account: true,
    }
    .check();
    assert_eq!(both.codes(), [Code::CardReturnedByBank, Code::CardInUse]);
    assert!(both.has_at("bank_card.card_number", Code::CardInUse));
}

#[test]
fn an_identity_is_sealed_and_read_back_as_it_was_checked() {
    let today = day("2026-11-26");
    let mut residence = form();
    stay(&mut residence).kind = Some("residence_permit".into());
    stay(&mut residence).number = Some("ab1234567".into());
    stay(&mut residence).expiry_date = Some("2028-01-01".into());
    for f in [form(), residence] {
        let identity = check_identity(&f, today).unwrap().value;
        let stored = serde_json::to_vec(&identity).unwrap();
        let back: Identity = serde_json::from_slice(&stored).unwrap();
        assert_eq!(back, identity);
        // The form it gives back checks to the same identity.
        assert_eq!(
            check_identity(&identity.to_form(), today).unwrap().value,
            identity
        );
    }
}

#[test]
fn no_debug_of_a_form_or_an_identity_shows_a_number() {
    let today = day("2026-11-26");
    let f = form();
    let identity = check_identity(&f, today).unwrap().value;
    let passport = f
        .documents
        .as_ref()
        .and_then(|d| d.passport.as_ref())
        .and_then(|p| p.number.clone())
        .unwrap();
    let phone_digits = "13800138000";
    for text in [format!("{f:?}"), format!("{identity:?}")] {
        assert!(!text.contains(&passport), "{text}");
        assert!(!text.contains(phone_digits), "{text}");
        assert!(!text.contains("1990-05-17"), "{text}");
    }
    let card = crate::policy::BankCardForm {
        card_number: Some("6222020000000000018".into()),
        ..Default::default()
    };
    assert!(!format!("{card:?}").contains("6222020000000000018"));
}

#[test]
fn hong_kong_macao_and_taiwan_are_sent_to_the_mainland_travel_permit() {
    for region in ["HKG", "MAC", "TWN"] {
        let mut f = form();
        f.nationality = Some(region.into());
        let report = check_new_application(&f, day("2026-11-26")).unwrap_err();
        let breach = &report.breaches[0];
        assert_eq!(
            (breach.field.as_str(), breach.code),
            ("nationality", Code::NationalityNotForeign)
        );
        assert!(breach.message_en().contains("Mainland Travel Permit"));
        assert!(breach.message_zh().contains("通行证"));
    }
    let mut f = form();
    f.nationality = Some("CHN".into());
    let report = check_new_application(&f, day("2026-11-26")).unwrap_err();
    assert!(
        report.breaches[0]
            .message_en()
            .contains("Resident Identity Card")
    );
}
