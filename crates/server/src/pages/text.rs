//! The words on the pages, in English and Simplified Chinese. Rule breaches and failures use
//! the core's code catalogue instead, so a page and the API say the same thing.

use super::Lang;

macro_rules! texts {
    ($( $key:ident: $en:literal, $zh:literal; )*) => {
        /// One page text in the reader's language.
        #[derive(Clone, Copy)]
        pub struct Text {
            pub lang: Lang,
        }

        impl Text {
            $(
                pub fn $key(&self) -> &'static str {
                    match self.lang {
                        Lang::En => $en,
                        Lang::Zh => $zh,
                    }
                }
            )*
        }

        #[cfg(test)]
        impl Text {
            /// Every text as (key, English, Chinese).
            pub fn all() -> Vec<(&'static str, &'static str, &'static str)> {
                vec![$((stringify!($key), $en, $zh)),*]
            }
        }
    };
}

texts! {
    product: "Real-name authentication", "实名认证";
    start_title: "Verify your identity", "验证您的身份";
    start_text: "Your platform sent you here to verify your real name. It takes a passport, a proof of stay and a mainland savings card in your name.", "您的平台请您在此完成实名认证，需要护照、在华停留证明和一张您本人名下的中国大陆储蓄卡。";
    start_continue: "Continue", "继续";
    link_spent_title: "This link can no longer be used", "此链接已无法使用";
    link_spent_text: "Each link works once and for a short time. Go back to the platform and open the verification again to get a new link.", "每个链接只能使用一次，且有效期很短。请返回平台重新进入认证，获取新的链接。";
    back_to_platform: "Back to the platform", "返回平台";
    switch_language: "中文", "English";
    log_in: "Log in", "登录";
    log_out: "Log out", "退出";
    register: "Create an account", "注册账户";
    login_label: "E-mail or phone number", "电子邮箱或手机号码";
    password_label: "Password", "密码";
    password_hint: "At least 8 characters.", "至少 8 个字符。";
    totp_label: "Staff only: 6-digit code from your authenticator app", "仅限工作人员：身份验证器应用中的 6 位验证码";
    totp_hint: "Leave empty if you are not staff.", "非工作人员请留空。";
    no_account: "No account yet?", "还没有账户？";
    have_account: "Already have an account?", "已有账户？";
    account_settings: "Account settings", "账户设置";
    basic_information: "Basic information", "基本信息";
    login_name: "Login", "登录名";
    real_name_status: "Real-name authentication", "实名认证";
    status_unverified: "Not authenticated", "未认证";
    status_pending: "In progress", "认证中";
    status_verified: "Authenticated", "已认证";
    real_name: "Real name", "真实姓名";
    authenticate_now: "Authenticate now", "立即认证";
    view_application: "View my application", "查看我的申请";
    choose_nationality: "Which nationality are you?", "请选择您的国籍类型";
    foreign_nationality: "Foreign nationality", "外国国籍";
    foreign_nationality_hint: "Passport with entry record or residence permit, or the Foreigner's Permanent Residence ID Card.", "护照及入境记录或居留许可，或外国人永久居留身份证。";
    chinese_citizen: "Chinese citizen", "中国公民";
    chinese_citizen_hint: "Chinese citizens authenticate with their Resident Identity Card in the platform's own flow; this service is for foreign nationals.", "中国公民请在平台的身份证认证流程中完成认证，本服务仅面向外国国籍用户。";
    form_has_errors: "Please correct the fields marked below.", "请修改下方标出的内容。";
    step_identity: "1. Identity", "1. 身份信息";
    step_documents: "2. Documents", "2. 证件照片";
    step_card: "3. Bank card", "3. 银行卡";
    step_confirm: "4. Confirm", "4. 确认";
    real_name_hint: "Exactly as on your passport: letters, Chinese characters, spaces, dots and hyphens.", "与护照一致：字母、汉字、空格、点和中横线。";
    nationality: "Nationality", "国籍";
    choose: "Choose…", "请选择…";
    date_of_birth: "Date of birth", "出生日期";
    phone: "Contact phone", "联系电话";
    phone_hint: "A mainland mobile (11 digits) or an international number with its code, e.g. +852-91234567.", "大陆手机号（11 位）或带国际区号的号码，例如 +852-91234567。";
    passport: "Passport", "护照";
    passport_number: "Passport number", "护照号码";
    expiry_date: "Expiry date", "有效期至";
    proof_of_stay: "Proof of stay in China", "在华停留证明";
    entry_record: "Entry record (passport page with the entry stamp)", "入境记录（护照入境章页）";
    residence_permit: "Residence permit", "居留许可";
    permanent_residence_card: "Foreigner's Permanent Residence ID Card (no passport needed)", "外国人永久居留身份证（无需护照）";
    permit_number: "Permit or card number", "证件号码";
    entry_date: "Date of entry", "入境日期";
    consent_title: "Your consent", "个人信息授权";
    consent_text: "To authenticate you we collect your name, nationality, date of birth, phone, document numbers and images, and your bank card. They are encrypted, used only for this authentication and its review, and kept as the law requires.", "为完成实名认证，我们将收集您的姓名、国籍、出生日期、电话、证件号码及照片和银行卡信息。这些信息将加密保存，仅用于本次认证及审核，并按法律要求留存。";
    consent_label: "I have read the above and agree to the processing of this sensitive personal information.", "我已阅读上述内容，同意处理上述敏感个人信息。";
    next: "Next", "下一步";
    save: "Save", "保存";
    passport_photo_page: "Passport photo page", "护照个人信息页";
    stay_permit_image: "Proof of stay (entry stamp page, permit or card)", "停留证明（入境章页、居留许可或永居证）";
    image_hint: "JPEG, PNG or PDF, at most 10 MiB.", "JPEG、PNG 或 PDF，不超过 10 MiB。";
    uploaded: "Uploaded", "已上传";
    bank: "Bank", "银行";
    card_number: "Card number", "银行卡号";
    card_type: "Card type", "卡类型";
    savings_card: "Savings (debit) card", "储蓄卡";
    passbook: "Passbook", "存折";
    credit_card: "Credit card", "信用卡";
    account_type: "Account type", "账户类型";
    current_account: "Current (demand)", "活期";
    fixed_account: "Fixed-term", "定期";
    account_name: "Account name", "开户名";
    account_name_hint: "Must be exactly your real name.", "必须与真实姓名完全一致。";
    bank_rules: "Bank rules", "银行说明";
    rule_savings: "Savings (debit) cards only: passbooks and credit cards cannot be used.", "仅支持储蓄卡（借记卡），不支持存折和信用卡。";
    rule_hzcb: "Bank of Hangzhou: current accounts only.", "杭州银行：仅支持活期账户。";
    rule_boc: "Bank of China: names with a dot cannot be paid.", "中国银行：姓名含点的账户无法打款。";
    rule_long: "Names longer than 20 characters: only China Merchants Bank.", "姓名超过 20 个字符：仅支持招商银行。";
    confirm_title: "Check and submit", "确认并提交";
    confirm_hint: "After you submit, we pay a small amount under 1 yuan into your card. It usually arrives in 1–2 days.", "提交后，我们将向您的银行卡支付一笔 1 元以下的金额，通常 1–2 天内到账。";
    submit: "Submit", "提交";
    edit: "Edit", "修改";
    cancel_application: "Cancel this application", "取消本次申请";
    deposit_on_its_way: "A small deposit is on its way to your card", "小额打款正在途中";
    deposit_on_its_way_text: "It usually arrives within 1–2 days. Then check your bank statement for an amount under 1 yuan and enter it here.", "通常 1–2 天内到账。到账后请在银行流水中查看这笔 1 元以下的金额并在此填写。";
    enter_amount: "Enter the amount you received", "请填写收到的金额";
    amount_label: "Amount in yuan, e.g. 0.37", "金额（元），例如 0.37";
    attempts_left: "Attempts left", "剩余次数";
    confirm_before: "Confirm before", "请在此时间前确认";
    under_review: "Your application is being reviewed", "您的申请正在审核中";
    under_review_text: "Staff review each application within the service level; expect a decision by", "工作人员将在服务时限内完成审核，预计最晚于以下时间前给出结果：";
    back_home: "Back to the start", "返回首页";
    request_id: "Request id", "请求编号";
    error_title: "Something is not right", "出了点问题";
    verified_title: "You are authenticated", "认证成功";
    verified_text: "Your real-name authentication is complete.", "您已完成实名认证。";
    failed_title: "Authentication failed", "认证未通过";
    apply_again: "Apply again", "重新申请";
    cannot_retry: "This account cannot apply again.", "该账户无法再次申请。";
    continue_application: "Continue your application", "继续填写申请";
    cancelled_title: "This application was cancelled", "本次申请已取消";
    bank_statement: "Bank statement (sandbox)", "银行流水（沙箱）";
    statement_hint: "What your bank would show. Only the sandbox has this page.", "您的银行将显示的内容。此页面仅在沙箱环境中提供。";
    show: "Show", "查看";
    no_transactions: "No transactions yet.", "暂无交易。";
    amount: "Amount", "金额";
    memo: "Memo", "摘要";
    time: "Time", "时间";
    review_queue: "Review queue", "审核队列";
    tab_open: "Open", "待处理";
    tab_claimed: "Claimed", "处理中";
    tab_decided: "Decided", "已处理";
    submitted: "Submitted", "提交时间";
    due: "Due", "截止时间";
    overdue: "Overdue", "已超时";
    flags: "Flags", "提示";
    case: "Case", "案件";
    open_case: "Open", "打开";
    no_cases: "No cases here.", "暂无案件。";
    claim: "Claim (c)", "认领 (c)";
    claimed_by_you: "You hold this case until", "您持有此案件至";
    approve: "Approve (a)", "通过 (a)";
    reject: "Reject (r)", "拒绝 (r)";
    reason: "Reason", "原因";
    note: "Internal note (never shown to the user)", "内部备注（不会展示给用户）";
    decided: "Decided", "已处理";
    documents_title: "Document images", "证件图片";
    application_data: "What the user entered", "用户填写的信息";
    keyboard_hint: "Keyboard: Alt+C claim, Alt+A approve, Alt+R reject (your browser's access keys).", "键盘：Alt+C 认领，Alt+A 通过，Alt+R 拒绝（浏览器访问键）。";
    audit_log: "Audit log", "审计日志";
    actor: "Who", "操作人";
    action: "Action", "操作";
    details: "Details", "详情";
    filter: "Filter", "筛选";
    verification_id: "Application id", "申请编号";
    reason_document_unreadable: "Document unreadable", "证件无法辨认";
    reason_document_page_missing: "Document page missing", "缺少证件页";
    reason_document_invalid: "Document invalid", "证件无效";
    reason_document_expired: "Document expired", "证件已过期";
    reason_identity_mismatch: "Identity does not match", "身份信息不符";
    reason_name_mismatch: "Name does not match", "姓名不符";
    reason_under_age: "Under 18", "未满 18 周岁";
    reason_duplicate_identity: "Duplicate identity (final)", "重复身份（最终）";
    reason_suspected_fraud: "Suspected fraud (final)", "疑似欺诈（最终）";
    reason_other: "Other (needs a note)", "其他（须填写备注）";
    forbidden_request: "This form has expired. Please try again.", "表单已过期，请重试。";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_both_languages() {
        // The macro makes a missing translation a compile error; this checks that none is
        // empty and that each really is translated.
        for (key, en, zh) in Text::all() {
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
            assert_ne!(en, zh, "{key} is not translated");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
                    || key == "switch_language",
                "{key}"
            );
        }
        assert_eq!(Text { lang: Lang::Zh }.log_in(), "登录");
    }
}
