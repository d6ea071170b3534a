//! The catalogue of every stable code realname speaks: rule breaches, warnings, deposit and
//! review outcomes, review reasons and flags, flow conflicts and API errors. The code is the
//! interface; its English and Simplified Chinese messages live here and nowhere else.

use std::fmt;

macro_rules! catalogue {
    ($( $variant:ident = $code:literal { en: $en:literal, zh: $zh:literal } )*) => {
        /// A stable, snake_case code. Clients match on [`Code::as_str`]; never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $variant, )*
        }

        impl Code {
            /// Every code in the catalogue, in declaration order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The generic English message; [`crate::Breach`] adds details where a code has them.
            pub fn message_en(self) -> &'static str {
                match self { $( Code::$variant => $en, )* }
            }

            /// The generic Simplified Chinese message.
            pub fn message_zh(self) -> &'static str {
                match self { $( Code::$variant => $zh, )* }
            }

            pub fn parse(code: &str) -> Option<Code> {
                match code { $( $code => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

catalogue! {
    // 2.0 Consent
    ConsentRequired = "consent_required" {
        en: "Please read how your personal information is used and give your consent before applying.",
        zh: "请先阅读个人信息的使用说明并单独同意后再提交申请。"
    }

    // Fields that are missing or not in the expected form
    FieldRequired = "field_required" {
        en: "This field is required.",
        zh: "此项为必填项。"
    }
    ExpiryDateInvalid = "expiry_date_invalid" {
        en: "Enter the expiry date as shown on the document, in the form YYYY-MM-DD.",
        zh: "请按证件上的有效期填写，格式为 YYYY-MM-DD。"
    }

    // 2.1 Real name
    NameInvalidCharacters = "name_invalid_characters" {
        en: "Your name may contain only Chinese characters, Latin letters, spaces, dots and hyphens.",
        zh: "姓名只能包含汉字、拉丁字母、空格、点和中横线。"
    }
    NameTooShort = "name_too_short" {
        en: "Your name must be at least 2 characters long.",
        zh: "姓名至少需要 2 个字符。"
    }
    NameTooLong = "name_too_long" {
        en: "Your name can be at most 64 characters long.",
        zh: "姓名最多 64 个字符。"
    }

    // 2.2 Contact phone
    PhoneInvalidCharacters = "phone_invalid_characters" {
        en: "A phone number may contain only digits, hyphens and one leading +.",
        zh: "手机号码只能包含数字、中横线，以及开头的一个 +。"
    }
    PhoneTooLong = "phone_too_long" {
        en: "A phone number can have at most 20 digits.",
        zh: "手机号码最多 20 位数字。"
    }
    PhoneNeedsCountryCode = "phone_needs_country_code" {
        en: "Numbers outside the mainland, including Hong Kong, Macao and Taiwan, need their international code, for example +852-...",
        zh: "境外及港澳台号码请填写国际区号，例如 +852-...。"
    }
    PhoneInvalid = "phone_invalid" {
        en: "This phone number does not exist for its country code. Please check it.",
        zh: "该号码在其国家或地区代码下不存在，请检查。"
    }
    PhoneNotRecommended = "phone_not_recommended" {
        en: "We recommend a mainland mobile number: 11 digits starting with 13, 14, 15 or 18.",
        zh: "推荐填写中国大陆手机号码：11 位数字，以 13、14、15 或 18 开头。"
    }

    // 2.3 Applicant
    NationalityInvalid = "nationality_invalid" {
        en: "Choose your nationality from the list (a three-letter country code such as USA).",
        zh: "请从列表中选择国籍（三位字母国家代码，例如 USA）。"
    }
    NationalityNotForeign = "nationality_not_foreign" {
        en: "This authentication is for foreign nationals. Chinese citizens authenticate with their Resident Identity Card.",
        zh: "此认证仅适用于外国国籍用户。中国公民请使用居民身份证认证。"
    }
    DateOfBirthInvalid = "date_of_birth_invalid" {
        en: "Enter your date of birth as YYYY-MM-DD; it cannot be in the future.",
        zh: "请按 YYYY-MM-DD 填写出生日期，且不能晚于今天。"
    }
    ApplicantUnder18 = "applicant_under_18" {
        en: "You must be 18 full years old to apply.",
        zh: "申请人须年满 18 周岁。"
    }

    // 2.3 Customer due diligence
    SexRequired = "sex_required" {
        en: "Choose the sex shown on your passport: female (F), male (M) or unspecified (X).",
        zh: "请选择护照上登记的性别：女（F）、男（M）或未指明（X）。"
    }
    SexInvalid = "sex_invalid" {
        en: "Sex must be female, male or unspecified, as on your passport (F, M or X).",
        zh: "性别只能是女、男或未指明，与护照（F、M 或 X）一致。"
    }
    OccupationRequired = "occupation_required" {
        en: "Choose the kind of work you do.",
        zh: "请选择您的职业类别。"
    }
    OccupationInvalid = "occupation_invalid" {
        en: "Choose an occupation from the list; the job title may be at most 100 characters.",
        zh: "请从列表中选择职业；职务名称最多 100 个字符。"
    }
    OccupationTitleRequired = "occupation_title_required" {
        en: "You chose \"other\": enter your job title.",
        zh: "您选择了“其他”，请填写您的职务名称。"
    }
    AddressRequired = "address_required" {
        en: "Enter the address where you live in mainland China.",
        zh: "请填写您在中国大陆的居住地址。"
    }
    AddressInvalid = "address_invalid" {
        en: "Enter your residential address in mainland China in 5 to 200 characters, on one line.",
        zh: "请用 5 至 200 个字符在一行内填写您在中国大陆的居住地址。"
    }
    PepDeclarationRequired = "pep_declaration_required" {
        en: "Say whether you, a family member or a close associate hold or held a prominent public function.",
        zh: "请说明您本人、家庭成员或密切关系人是否担任或曾经担任重要公共职务。"
    }
    PepInvalid = "pep_invalid" {
        en: "Answer yes or no to the question on prominent public functions; the role may be at most 200 characters.",
        zh: "请对重要公共职务的问题回答“是”或“否”；职务最多 200 个字符。"
    }
    PepRoleRequired = "pep_role_required" {
        en: "You answered yes: name the public function and who holds or held it (you, a family member or a close associate).",
        zh: "您回答了“是”：请写明该公共职务，以及担任者是您本人、家庭成员还是密切关系人。"
    }

    // 2.4 Documents
    PassportRequired = "passport_required" {
        en: "Your passport is required, unless you hold a Foreigner's Permanent Residence ID Card.",
        zh: "请填写护照信息（持外国人永久居留身份证者除外）。"
    }
    PassportNumberInvalid = "passport_number_invalid" {
        en: "A passport number has 5 to 20 letters and digits.",
        zh: "护照号码应为 5 至 20 位字母或数字。"
    }
    StayPermitRequired = "stay_permit_required" {
        en: "Add your proof of stay: the entry record, your residence permit, or your permanent residence ID card.",
        zh: "请提供在华停留证明：入境记录、居留许可或外国人永久居留身份证。"
    }
    StayPermitKindInvalid = "stay_permit_kind_invalid" {
        en: "The proof of stay must be an entry record, a residence permit or a permanent residence ID card.",
        zh: "停留证明只能是入境记录、居留许可或外国人永久居留身份证。"
    }
    StayPermitNumberInvalid = "stay_permit_number_invalid" {
        en: "A residence permit number has 5 to 20 letters and digits.",
        zh: "居留许可号码应为 5 至 20 位字母或数字。"
    }
    EntryDateInvalid = "entry_date_invalid" {
        en: "Enter the date of entry from the entry stamp as YYYY-MM-DD; it cannot be in the future.",
        zh: "请按入境章上的日期填写入境日期（YYYY-MM-DD），且不能晚于今天。"
    }
    PermanentResidenceCardNumberInvalid = "permanent_residence_card_number_invalid" {
        en: "This is not a valid permanent residence ID card number. It has 18 digits starting with 9 (the last may be X), or on older cards 3 letters followed by 12 digits.",
        zh: "外国人永久居留身份证号码无效。新版号码为以 9 开头的 18 位（末位可能为 X），旧版为 3 位字母加 12 位数字。"
    }
    DocumentExpired = "document_expired" {
        en: "This document has expired. Please use a valid document.",
        zh: "该证件已过期，请使用有效证件。"
    }
    DocumentImageRequired = "document_image_required" {
        en: "Please upload a photo or scan of this document.",
        zh: "请上传该证件的照片或扫描件。"
    }
    DocumentImageUnsupported = "document_image_unsupported" {
        en: "Upload the document as a JPEG, PNG or PDF file.",
        zh: "请以 JPEG、PNG 或 PDF 格式上传证件。"
    }
    DocumentImageTooLarge = "document_image_too_large" {
        en: "The file is larger than 10 MiB. Please upload a smaller photo or scan.",
        zh: "文件超过 10 MiB，请上传较小的照片或扫描件。"
    }

    // 2.5 Bank card
    BankNotSupported = "bank_not_supported" {
        en: "Cards of this bank cannot be used for real-name authentication. Please choose a supported bank.",
        zh: "暂不支持该银行的银行卡进行实名认证，请选择支持的银行。"
    }
    CardNumberInvalid = "card_number_invalid" {
        en: "This card number is not valid. A card number has 16 to 19 digits; please check it against your card.",
        zh: "银行卡号无效。卡号为 16 至 19 位数字，请对照银行卡检查。"
    }
    CardBankMismatch = "card_bank_mismatch" {
        en: "This card number belongs to another bank. Please check the bank you chose.",
        zh: "该卡号属于其他银行，请检查所选银行。"
    }
    CreditCardNotSupported = "credit_card_not_supported" {
        en: "Credit cards cannot be used. Please use a savings (debit) card.",
        zh: "不支持信用卡，请使用储蓄卡（借记卡）。"
    }
    PassbookNotSupported = "passbook_not_supported" {
        en: "Passbooks cannot be used. Please use a savings (debit) card.",
        zh: "不支持存折，请使用储蓄卡（借记卡）。"
    }
    CardTypeInvalid = "card_type_invalid" {
        en: "The card type must be a savings card.",
        zh: "卡类型必须为储蓄卡。"
    }
    AccountTypeInvalid = "account_type_invalid" {
        en: "The account type must be current or fixed.",
        zh: "账户类型必须为活期或定期。"
    }
    AccountNameMismatch = "account_name_mismatch" {
        en: "The account name must be exactly your real name as entered on the previous page.",
        zh: "开户名必须与您填写的真实姓名完全一致。"
    }
    AccountTypeNotSupported = "account_type_not_supported" {
        en: "This bank accepts only current (demand deposit) accounts for authentication.",
        zh: "该银行仅支持活期账户进行认证。"
    }
    BankRejectsDotsInName = "bank_rejects_dots_in_name" {
        en: "This bank cannot pay into an account whose name contains a dot. Please choose another bank.",
        zh: "该银行不支持姓名中含有点的账户，请选择其他银行。"
    }
    BankRejectsLatinLetters = "bank_rejects_latin_letters" {
        en: "This bank cannot pay into an account whose name contains Latin letters. Please choose another bank.",
        zh: "该银行不支持姓名中含有拉丁字母的账户，请选择其他银行。"
    }
    NameTooLongForBank = "name_too_long_for_bank" {
        en: "Your name is too long for this bank's payment system. Please choose another bank.",
        zh: "您的姓名超出了该银行打款系统的长度限制，请选择其他银行。"
    }

    // 2.6 Micro-deposit
    AmountMalformed = "amount_malformed" {
        en: "Enter the amount in yuan as shown on your statement, for example 0.37. This did not use an attempt.",
        zh: "请按银行流水上的金额填写，单位为元，例如 0.37。本次输入不计入尝试次数。"
    }
    AmountIncorrect = "amount_incorrect" {
        en: "That is not the amount we paid. Please check your bank statement.",
        zh: "金额不正确，请核对银行流水。"
    }
    DepositAttemptsExhausted = "deposit_attempts_exhausted" {
        en: "The amount was entered wrongly too many times, so this application has been closed. You may apply again.",
        zh: "金额输入错误次数过多，本次申请已关闭。您可以重新申请。"
    }
    DepositExpired = "deposit_expired" {
        en: "The amount was not confirmed in time, so this application has been closed. You may apply again.",
        zh: "未在规定时间内确认金额，本次申请已关闭。您可以重新申请。"
    }
    DepositReturned = "deposit_returned" {
        en: "Your bank returned our payment to this card. Please apply again with another savings card.",
        zh: "您的银行退回了我们向该卡的打款。请使用其他储蓄卡重新申请。"
    }
    DepositLimitReached = "deposit_limit_reached" {
        en: "We have already paid the most deposits allowed to this card or document in the last 30 days. Please try again later.",
        zh: "近 30 天内对该银行卡或证件的打款次数已达上限，请稍后再试。"
    }
    CardReturnedByBank = "card_returned_by_bank" {
        en: "The bank returned an earlier payment to this card. Please use another savings card.",
        zh: "银行曾退回向该卡的打款，请使用其他储蓄卡。"
    }
    CardInUse = "card_in_use" {
        en: "This card is already bound to another account's application.",
        zh: "该银行卡已被其他账户的申请绑定。"
    }

    // 2.7 Review reasons (document_expired above doubles as one)
    DocumentUnreadable = "document_unreadable" {
        en: "We could not read one of your document images. Please apply again with clear, complete photos.",
        zh: "您上传的证件图片无法辨认。请使用清晰、完整的照片重新申请。"
    }
    DocumentPageMissing = "document_page_missing" {
        en: "A required page is missing, for example the passport page with the entry stamp. Please apply again with all pages.",
        zh: "缺少必要的证件页面，例如护照入境章页。请上传全部页面后重新申请。"
    }
    DocumentInvalid = "document_invalid" {
        en: "One of your documents could not be accepted. Please apply again with a valid document.",
        zh: "您的证件未能通过审核。请使用有效证件重新申请。"
    }
    IdentityMismatch = "identity_mismatch" {
        en: "The details you entered do not match your documents. Please apply again and enter them exactly as on the documents.",
        zh: "您填写的信息与证件不符。请按证件内容准确填写后重新申请。"
    }
    NameMismatch = "name_mismatch" {
        en: "The name you entered does not match the name on your documents. Please apply again with the name exactly as on your passport.",
        zh: "您填写的姓名与证件上的姓名不符。请按护照上的姓名重新申请。"
    }
    UnderAge = "under_age" {
        en: "Your documents show that you are not yet 18 full years old.",
        zh: "证件显示您未满 18 周岁。"
    }
    DuplicateIdentity = "duplicate_identity" {
        en: "This identity has already been authenticated on another account. Each person may authenticate only one account.",
        zh: "该身份已在其他账户完成认证，每人只能认证一个账户。"
    }
    SuspectedFraud = "suspected_fraud" {
        en: "We cannot complete the authentication of this account. Please contact customer service.",
        zh: "我们无法完成该账户的实名认证，请联系客服。"
    }
    NotEligible = "not_eligible" {
        en: "Real-name authentication cannot be completed for this account. Please contact the platform's customer service.",
        zh: "该账户无法完成实名认证。请联系平台客服。"
    }
    Other = "other" {
        en: "Your application could not be approved. Please check your details and apply again.",
        zh: "您的申请未获通过。请检查您的信息后重新申请。"
    }
    ReviewReasonInvalid = "review_reason_invalid" {
        en: "A rejection needs one of the known reasons.",
        zh: "拒绝时必须选择一个已知的原因。"
    }
    ReviewNoteRequired = "review_note_required" {
        en: "The reason \"other\" needs a note.",
        zh: "原因为“其他”时必须填写备注。"
    }
    ReviewOutcomeInvalid = "review_outcome_invalid" {
        en: "The outcome must be approve or reject.",
        zh: "审核结果必须为通过或拒绝。"
    }

    // 2.7 Flags shown to reviewers
    ScreeningFlag = "screening_flag" {
        en: "The applicant's name comes close to an entry of a list whose hits inform the review but stop nothing (section 12).",
        zh: "申请人姓名与某一名单条目相近；该名单的命中仅供审核参考，不暂停服务（第 12 节）。"
    }
    DuplicateDocument = "duplicate_document" {
        en: "The same document number is on another account's application.",
        zh: "相同的证件号码出现在其他账户的申请中。"
    }
    DocumentExpiresSoon = "document_expires_soon" {
        en: "A document expires within 30 days.",
        zh: "有证件将在 30 天内到期。"
    }
    Turns18Recently = "turns_18_recently" {
        en: "The applicant turned 18 within the last 30 days.",
        zh: "申请人在最近 30 天内年满 18 周岁。"
    }

    // 2.8 One person, one identity
    ApplicationInProgress = "application_in_progress" {
        en: "You already have an application in progress.",
        zh: "您已有一个正在进行的申请。"
    }
    AlreadyVerified = "already_verified" {
        en: "Your account has already completed real-name authentication.",
        zh: "您的账户已完成实名认证。"
    }
    ApplicationBlocked = "application_blocked" {
        en: "This account cannot apply for real-name authentication again. Please contact customer service.",
        zh: "该账户无法再次申请实名认证，请联系客服。"
    }

    // Section 4: the API's own errors
    ValidationFailed = "validation_failed" {
        en: "Some of the information is not valid. Please correct the fields listed.",
        zh: "部分信息有误，请修改所列项目。"
    }
    MalformedRequest = "malformed_request" {
        en: "The request could not be read. Send a JSON body of the documented form.",
        zh: "无法解析请求，请按文档发送 JSON 格式的请求体。"
    }
    Unauthorized = "unauthorized" {
        en: "Please log in.",
        zh: "请先登录。"
    }
    Forbidden = "forbidden" {
        en: "You are not allowed to do this.",
        zh: "您无权执行此操作。"
    }
    ExternalUserIdInvalid = "external_user_id_invalid" {
        en: "external_user_id must be 1 to 128 printable ASCII characters without spaces.",
        zh: "external_user_id 必须是 1 到 128 个不含空格的可打印 ASCII 字符。"
    }
    ReturnUrlNotAllowed = "return_url_not_allowed" {
        en: "return_url must be an absolute URL on one of the platform's configured origins.",
        zh: "return_url 必须是平台已配置来源下的完整网址。"
    }
    PurposeInvalid = "purpose_invalid" {
        en: "purpose must be verification or renewal.",
        zh: "purpose 只能是 verification 或 renewal。"
    }
    LocaleInvalid = "locale_invalid" {
        en: "locale must be zh-CN or en.",
        zh: "locale 只能是 zh-CN 或 en。"
    }
    MetadataInvalid = "metadata_invalid" {
        en: "metadata must be at most 20 string pairs, keys of at most 40 characters and values of at most 500.",
        zh: "metadata 最多 20 组字符串键值，键不超过 40 个字符，值不超过 500 个字符。"
    }
    WebhookUrlNotAllowed = "webhook_url_not_allowed" {
        en: "The webhook URL must be https://, or http:// into an allowed network, and reach a public address.",
        zh: "Webhook 网址必须为 https://（或指向允许网段的 http://），且指向公网地址。"
    }
    WebhookEventsInvalid = "webhook_events_invalid" {
        en: "events must list event types, or be [\"*\"] for every type.",
        zh: "events 必须列出事件类型，或为 [\"*\"] 表示全部类型。"
    }
    DescriptionTooLong = "description_too_long" {
        en: "The description can have at most 500 characters.",
        zh: "描述最多 500 个字符。"
    }
    WebhookStatusInvalid = "webhook_status_invalid" {
        en: "status can only be set to enabled.",
        zh: "status 只能设为 enabled。"
    }
    WebhookOverlapInvalid = "webhook_overlap_invalid" {
        en: "expire_current_after_seconds must be a whole number from 0 to 604800 (7 days).",
        zh: "expire_current_after_seconds 必须是 0 到 604800（7 天）之间的整数。"
    }
    SandboxClockOutOfRange = "sandbox_clock_out_of_range" {
        en: "The sandbox clock moves forward from 0 to 315360000 seconds at a time, and never more than 3650 days ahead of real time.",
        zh: "沙盒时钟每次可前进 0 至 315360000 秒，且总共不得超前真实时间 3650 天。"
    }
    KeyModeMismatch = "key_mode_mismatch" {
        en: "This key's mode does not match the payout rail: test keys work only with the sandbox, live keys only without it.",
        zh: "此密钥的模式与打款通道不符：测试密钥只能用于沙盒，正式密钥只能用于真实通道。"
    }
    NotFound = "not_found" {
        en: "Not found.",
        zh: "未找到。"
    }
    InvalidState = "invalid_state" {
        en: "This cannot be done at the application's current stage.",
        zh: "申请当前所处的阶段不允许此操作。"
    }
    PayloadTooLarge = "payload_too_large" {
        en: "The request is too large.",
        zh: "请求内容过大。"
    }
    RateLimited = "rate_limited" {
        en: "Too many attempts. Please wait a moment and try again.",
        zh: "尝试次数过多，请稍后再试。"
    }
    IdempotencyKeyReused = "idempotency_key_reused" {
        en: "This Idempotency-Key was already used for a different request.",
        zh: "该 Idempotency-Key 已用于另一个不同的请求。"
    }
    RequestInProgress = "request_in_progress" {
        en: "A request with this Idempotency-Key is still being handled. Try again in a moment.",
        zh: "使用该 Idempotency-Key 的请求仍在处理中，请稍后再试。"
    }
    RetentionHold = "retention_hold" {
        en: "This personal data must be kept for now: the law or an open account holds it until hold_until.",
        zh: "这些个人信息目前须依法保留（或账户仍在使用），保留至 hold_until。"
    }
    PasswordTooWeak = "password_too_weak" {
        en: "Choose a password of at least 8 characters.",
        zh: "密码至少需要 8 个字符。"
    }
    LoginInvalid = "login_invalid" {
        en: "Log in with an e-mail address or a phone number.",
        zh: "请使用电子邮箱或手机号码作为登录名。"
    }
    LoginTaken = "login_taken" {
        en: "An account with this login already exists.",
        zh: "该登录名已被注册。"
    }
    InvalidCredentials = "invalid_credentials" {
        en: "The login or password is wrong.",
        zh: "登录名或密码错误。"
    }
    CaseClaimed = "case_claimed" {
        en: "Another reviewer is working on this case.",
        zh: "该案件正由其他审核员处理。"
    }
    ScreeningHold = "screening_hold" {
        en: "List screening holds this application: its screening case must be decided first.",
        zh: "名单筛查暂停了该申请：须先处理其筛查案件。"
    }
    SecondApproverRequired = "second_approver_required" {
        en: "This case awaits a second approval by another staff member.",
        zh: "该案件须由另一名工作人员进行第二次审批。"
    }
    ScreeningOutcomeInvalid = "screening_outcome_invalid" {
        en: "The outcome must be dismiss, confirm or lift.",
        zh: "筛查结论必须为排除、确认或解除。"
    }
    ScreeningNoteRequired = "screening_note_required" {
        en: "Dismissing a potential match needs a note saying why it is not the listed person.",
        zh: "排除疑似命中时须填写备注，说明其并非名单所列人员。"
    }
    ServiceUnavailable = "service_unavailable" {
        en: "The service is briefly unavailable. Please try again in a moment.",
        zh: "服务暂时不可用，请稍后再试。"
    }
    InternalError = "internal_error" {
        en: "Something went wrong on our side. Please try again later.",
        zh: "系统出现问题，请稍后再试。"
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Every code is a string of the catalogue: the document lists them all, so a client can see
/// which it must handle.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A stable snake_case code from the catalogue."))
            .enum_values(Some(Code::ALL.iter().map(|c| c.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Code {}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Code::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown code {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_snake_case_and_round_trips() {
        let mut seen = HashSet::new();
        for &code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} listed twice");
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{text} is not snake_case"
            );
            assert_eq!(Code::parse(text), Some(code));
        }
        assert_eq!(Code::parse("no_such_code"), None);
    }

    #[test]
    fn every_code_has_both_messages() {
        for &code in Code::ALL {
            let (en, zh) = (code.message_en(), code.message_zh());
            assert!(
                en.len() > 5 && en.is_ascii(),
                "{code}: English message {en:?}"
            );
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code}: Chinese message {zh:?} has no Chinese"
            );
        }
    }

    /// The codes CONTRACT.md names, written out by hand so that a rename in the catalogue
    /// breaks this test instead of a client.
    #[test]
    fn the_contract_codes_are_all_present() {
        let contract = [
            "consent_required",
            "name_invalid_characters",
            "name_too_short",
            "name_too_long",
            "phone_invalid_characters",
            "phone_too_long",
            "phone_needs_country_code",
            "phone_invalid",
            "phone_not_recommended",
            "nationality_invalid",
            "nationality_not_foreign",
            "date_of_birth_invalid",
            "applicant_under_18",
            "sex_required",
            "occupation_required",
            "address_required",
            "pep_declaration_required",
            "sex_invalid",
            "occupation_invalid",
            "occupation_title_required",
            "address_invalid",
            "pep_invalid",
            "pep_role_required",
            "passport_required",
            "passport_number_invalid",
            "stay_permit_required",
            "stay_permit_kind_invalid",
            "entry_date_invalid",
            "permanent_residence_card_number_invalid",
            "document_expired",
            "document_image_required",
            "document_image_unsupported",
            "document_image_too_large",
            "bank_not_supported",
            "card_number_invalid",
            "card_bank_mismatch",
            "credit_card_not_supported",
            "passbook_not_supported",
            "account_name_mismatch",
            "account_type_not_supported",
            "bank_rejects_dots_in_name",
            "bank_rejects_latin_letters",
            "name_too_long_for_bank",
            "amount_malformed",
            "amount_incorrect",
            "deposit_attempts_exhausted",
            "deposit_expired",
            "deposit_returned",
            "deposit_limit_reached",
            "retention_hold",
            "card_returned_by_bank",
            "card_in_use",
            "document_unreadable",
            "document_page_missing",
            "document_invalid",
            "identity_mismatch",
            "name_mismatch",
            "under_age",
            "duplicate_identity",
            "suspected_fraud",
            "other",
            "duplicate_document",
            "document_expires_soon",
            "turns_18_recently",
            "application_in_progress",
            "already_verified",
            "application_blocked",
            "validation_failed",
            "unauthorized",
            "forbidden",
            "not_found",
            "invalid_state",
            "rate_limited",
            "idempotency_key_reused",
            "password_too_weak",
            "login_taken",
            "invalid_credentials",
            "case_claimed",
        ];
        for text in contract {
            assert!(
                Code::parse(text).is_some(),
                "{text} missing from the catalogue"
            );
        }
    }
}
