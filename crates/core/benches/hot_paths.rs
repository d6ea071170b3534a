//! The core's hot paths: validating a whole application, folding a name to its comparison
//! key, checking a card against the policy, parsing an amount. `cargo bench -p realname-core`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use realname_core::application::{
    ApplicationForm, DocumentsForm, PassportForm, StayPermitForm, check_new_application,
};
use realname_core::deposit::Fen;
use realname_core::name::{RealName, comparison_key};
use realname_core::policy::{BankCardForm, Policy};

fn form() -> ApplicationForm {
    ApplicationForm {
        consent: Some(true),
        real_name: Some("Ivan Petrov".into()),
        nationality: Some("RUS".into()),
        date_of_birth: Some("1990-05-17".into()),
        phone: Some("13800138000".into()),
        documents: Some(DocumentsForm {
            passport: Some(PassportForm {
                number: Some("E12345678".into()),
                expiry_date: Some("2034-01-01".into()),
            }),
            stay_permit: Some(StayPermitForm {
                kind: Some("entry_record".into()),
                entry_date: Some("2026-01-10".into()),
                ..Default::default()
            }),
        }),
        sex: Some("male".into()),
        occupation: Some(realname_core::diligence::OccupationForm {
            category: Some("office_worker".into()),
            title: None,
        }),
        address: Some("Room 1201, 88 Jianguo Road, Chaoyang, Beijing".into()),
        pep: Some(realname_core::diligence::PepForm {
            declared: Some(false),
            role: None,
        }),
    }
}

fn hot_paths(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let application = form();
    // The first use loads libphonenumber's metadata; measure the steady state.
    check_new_application(&application, today).unwrap();
    c.bench_function("validate an application", |b| {
        b.iter(|| check_new_application(black_box(&application), today))
    });

    c.bench_function("fold a name to its comparison key", |b| {
        b.iter(|| comparison_key(black_box("伊万・彼得罗夫 ＪＯＨＮ　ｓｍｉｔｈ-Øvergård")))
    });

    let policy = Policy::default_policy();
    let holder = RealName::parse("John Smith").unwrap();
    let card = BankCardForm {
        bank: Some("ICBC".into()),
        card_number: Some("6222 0200 0000 0000 018".into()),
        card_type: Some("savings".into()),
        account_type: Some("current".into()),
        account_name: Some("JOHN SMITH".into()),
    };
    c.bench_function("check a card against the policy", |b| {
        b.iter(|| policy.check_card(black_box(&card), &holder))
    });

    c.bench_function("parse an amount", |b| {
        b.iter(|| Fen::parse_deposit_answer(black_box("０.３７元")))
    });
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
