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
    status_expired: "Expired: your documents have lapsed", "已过期：您的证件已失效";
    status_suspended: "Suspended", "已暂停";
    status_closed: "Closed", "已注销";
    real_name: "Real name", "真实姓名";
    authenticate_now: "Authenticate now", "立即认证";
    view_application: "View my application", "查看我的申请";
    choose_nationality: "Which nationality are you?", "请选择您的国籍类型";
    foreign_nationality: "Foreign nationality", "外国国籍";
    foreign_nationality_hint: "Passport with entry record or residence permit, or the Foreigner's Permanent Residence ID Card.", "护照及入境记录或居留许可，或外国人永久居留身份证。";
    chinese_citizen: "Chinese citizen", "中国公民";
    chinese_citizen_hint: "Chinese citizens authenticate with their Resident Identity Card in the platform's own flow; this service is for foreign nationals.", "中国公民请在平台的身份证认证流程中完成认证，本服务仅面向外国国籍用户。";
    step_registered: "Account", "注册账户";
    step_identity: "Identity", "身份信息";
    step_documents: "Documents", "证件照片";
    step_card: "Bank card", "银行卡";
    step_deposit: "Deposit", "小额打款";
    step_amount: "Amount", "填写金额";
    step_review: "Review", "人工审核";
    step_result: "Result", "认证结果";
    step_done: "done", "已完成";
    step_current: "you are here", "当前步骤";
    step_failed: "failed", "未通过";
    step_todo: "to do", "待完成";
    progress_label: "Your progress", "认证进度";
    site_nav: "Site", "站点";
    queue_tabs: "Queues", "案件分类";
    ahead_documents: "photos of your documents", "上传证件照片";
    ahead_card: "a mainland savings card in your name", "绑定本人名下的大陆储蓄卡";
    ahead_deposit: "we pay under 1 yuan into the card", "我们向该卡支付 1 元以下的金额";
    ahead_amount: "you enter the amount from your statement", "您填写银行流水中的金额";
    ahead_review: "staff check your application within 2 days", "工作人员在 2 天内审核";
    ahead_result: "you see the outcome here", "在此查看结果";
    error_summary_title: "There is a problem", "请先修改以下问题";
    error_word: "Error", "错误";
    notice_already_submitted: "This application has been submitted already; nothing was changed.", "本申请已提交，未做任何更改。";
    notice_cancelled: "Your application was cancelled. You can start a new one at any time.", "您的申请已取消，您可随时重新申请。";
    notice_documents_first: "Upload the photos of your documents first.", "请先上传证件照片。";
    notice_card_first: "Add your bank card first.", "请先填写银行卡信息。";
    notice_already_verified: "You are authenticated already: there is nothing more to do.", "您已完成实名认证，无需再次申请。";
    notice_blocked: "This account cannot apply again; the reason is below.", "该账户无法再次申请，原因见下方。";
    notice_saved_with_warning: "Saved. Please read the advice below before you go on.", "已保存。继续前请阅读下方提示。";
    notice_claimed: "You hold this case now.", "您已认领此案件。";
    notice_decided: "The decision is recorded.", "审核结果已记录。";
    notice_logged_out: "You have logged out.", "您已退出登录。";
    login_ended: "Your session ended. Log in again and you come back to the step you were at, with what you typed.", "登录已过期。重新登录后将回到您所在的步骤，已填写的内容会保留。";
    linked_ended: "You came here from your platform's link, and that session has ended. Go back to the platform to get a new link; your application is kept.", "您是通过平台链接进入的，该会话已结束。请返回平台获取新的链接，您的申请会保留。";
    linked_return: "Came here from your platform's link? Go back to the platform to get a new one; your application is kept.", "是通过平台链接进入的？请返回平台获取新的链接，您的申请会保留。";
    staff_sign_in: "Staff sign-in: code from your authenticator app", "工作人员登录：身份验证器中的验证码";
    retry_note_with_images: "Your details and document photos from the last application are filled in. Check them, change what was wrong, and give your consent again.", "已为您填入上次申请的信息和证件照片。请核对并修改有误之处，然后重新授权。";
    retry_note_new_images: "Your details from the last application are filled in. Check them, give your consent again, and upload new photos of your documents: the last ones could not be used.", "已为您填入上次申请的信息。请核对并重新授权，然后重新上传证件照片：上次的照片无法使用。";
    entry_stamp_image: "Passport page with the China entry stamp", "护照中国入境章页";
    residence_permit_image: "Passport page with the residence permit", "护照居留许可页";
    residence_card_image: "Foreigner's Permanent Residence ID Card (front)", "外国人永久居留身份证（正面）";
    open_draft: "Not submitted yet", "尚未提交";
    you: "you", "您";
    another_reviewer: "another reviewer", "其他审核员";
    outcome_approved: "Approved", "已通过";
    outcome_rejected: "Rejected", "已拒绝";
    outcome: "Outcome", "结果";
    held_by_column: "Held by", "认领人";
    case_column: "Case", "案件";
    flag_duplicate_document: "The same document is on another account's application", "其他账户的申请中有相同证件";
    flag_document_expires_soon: "A document expires within 30 days", "证件将在 30 天内到期";
    flag_turns_18_recently: "Turned 18 within the last 30 days", "近 30 天内刚满 18 周岁";
    flag_screening_flag: "Close to an entry of a list that informs only (OFAC)", "与仅供参考的名单（OFAC）条目相近";
    duplicate_link: "Compare with application", "对比申请";
    audit_reveal_application: "Opened the case unmasked", "查看案件完整信息";
    audit_reveal_document: "Viewed a document image", "查看证件图片";
    audit_decide: "Decided the case", "作出审核决定";
    audit_reveal_real_name: "Platform read the real name", "平台读取真实姓名";
    audit_reveal_identity: "Platform read the identity", "平台读取身份信息";
    audit_erase: "Personal data erased", "删除个人信息";
    audit_close_account: "Platform closed the account", "平台注销账户";
    detail_rule: "Rule", "规则";
    personal_data: "Personal data", "个人信息";
    audit_other: "Other action", "其他操作";
    detail_case: "Case", "案件";
    detail_slot: "Document", "证件";
    detail_outcome: "Outcome", "结果";
    detail_api_key: "API key", "API 密钥";
    detail_unmasked: "Unmasked", "完整信息";
    platform_key: "The platform (API key)", "平台（API 密钥）";
    yes: "yes", "是";
    no: "no", "否";
    cancel_title: "Cancel this application?", "确定取消本次申请？";
    cancel_text: "What you entered will not be used, and the application cannot be continued. You can start a new one at any time.", "已填写的内容将不再使用，本申请也无法继续。您可随时重新申请。";
    cancel_confirm: "Yes, cancel it", "确定取消";
    keep_application: "No, go back to my application", "不取消，返回申请";
    check_again: "Check again", "刷新状态";
    look_at_card: "Look for it on the statement of", "请查看以下银行卡的流水：";
    paid_in_at: "Paid in", "到账时间";
    submitted_title: "What you submitted", "您提交的信息";
    may_retry: "You may apply again: your details are filled in for you.", "您可以重新申请，系统会为您填入上次的信息。";
    new_images_needed: "You will need new photos of your documents.", "您需要重新上传证件照片。";
    failure_reason: "Reason", "原因";
    nationality_hint: "Type the first letters of your country and pick it from the list.", "输入国家名称的开头并从列表中选择。";
    hk_mo_tw_hint: "Residents of Hong Kong, Macao and Taiwan: use your Mainland Travel Permit in the platform's own flow.", "港澳台居民请在平台的相应流程中使用来往内地（大陆）通行证认证。";
    stay_kind_hint: "Choose one; only its fields are asked for.", "请选择一项，只需填写该项信息。";
    held_title: "What we hold about you", "我们保存的您的信息";
    held_what: "What", "内容";
    held_what_text: "Your real name, nationality, date of birth and phone; your passport and proof-of-stay numbers and photos; your bank card. All of it encrypted; staff see it only to review your application, and every look is logged.", "您的真实姓名、国籍、出生日期和电话；护照和在华停留证明的号码及照片；银行卡信息。全部加密保存；工作人员仅为审核您的申请查看，每次查看均有记录。";
    held_what_erased: "Only your application's status, its history and the decision. Your personal data and photos are erased.", "仅保存申请的状态、记录及审核结论。您的个人信息和照片已删除。";
    why_erased: "The record of what was decided, with no identity data in it.", "审核结论的记录，其中不含身份信息。";
    held_until_label: "Kept", "保存期限";
    held_why: "Why", "原因";
    held_consent: "Your consent", "您的授权";
    held_in_use: "while your application is in progress", "申请处理期间";
    why_in_use: "To verify your identity (your consent).", "用于核验您的身份（基于您的授权）。";
    why_failed: "Only as long as a new application or a question about this one may need it (PIPL art. 19); then it is erased.", "仅在重新申请或处理与本次申请有关的问题所需期间保存（《个人信息保护法》第十九条），之后删除。";
    why_fraud: "The review found a reason that must be upheld if questioned; the record is kept for that.", "审核结论需要在受到质询时予以维持，因此保存相关记录。";
    why_verified: "Payment institutions must keep customer identity records for 5 years after the relationship ends (PBOC).", "支付机构须在业务关系结束后保存客户身份资料 5 年（中国人民银行规定）。";
    method_not_allowed: "This page does not take that kind of request.", "此页面不接受该请求方式。";
    real_name_hint: "Exactly as on your passport: letters, Chinese characters, spaces, dots and hyphens.", "与护照一致：字母、汉字、空格、点和中横线。";
    nationality: "Nationality", "国籍";
    choose: "Choose…", "请选择…";
    date_of_birth: "Date of birth", "出生日期";
    phone: "Contact phone", "联系电话";
    phone_hint: "A mainland mobile (11 digits) or an international number with its code, e.g. +852-91234567.", "大陆手机号（11 位）或带国际区号的号码，例如 +852-91234567。";
    about_you: "About you", "个人情况";
    about_you_hint: "Payment institutions in China must record these for every customer (customer due diligence rules, 2026).", "中国的支付机构须为每位客户登记以下信息（2026 年客户尽职调查规定）。";
    sex: "Sex (as on your passport)", "性别（与护照一致）";
    sex_hint: "The passport's sex field: F, M or X.", "护照上的性别栏：F、M 或 X。";
    sex_female: "Female (F)", "女（F）";
    sex_male: "Male (M)", "男（M）";
    sex_unspecified: "Unspecified (X)", "未指明（X）";
    occupation: "Occupation", "职业";
    occupation_hint: "The kind of work you do now; if none fits, choose Other and write your job title.", "您目前从事的工作类别；都不符合时请选择“其他”并填写职务名称。";
    occupation_title: "Job title", "职务名称";
    occupation_title_hint: "Up to 100 characters. Required if you chose Other.", "最多 100 个字符。选择“其他”时必填。";
    occupation_civil_servant: "Civil servant", "公务员";
    occupation_professional: "Professional (doctor, engineer, teacher, lawyer…)", "专业技术人员（医生、工程师、教师、律师等）";
    occupation_office_worker: "Office worker", "办事人员";
    occupation_business_owner: "Business owner", "企业主或个体经营者";
    occupation_service_worker: "Service worker (shops, restaurants, hotels…)", "服务业人员（商店、餐饮、酒店等）";
    occupation_farmer: "Farmer or fisher", "农、林、牧、渔业人员";
    occupation_production_worker: "Production or transport worker", "生产、运输人员";
    occupation_military: "Military", "军人";
    occupation_student: "Student", "学生";
    occupation_retired: "Retired", "离退休人员";
    occupation_unemployed: "Not working", "无业";
    occupation_other: "Other", "其他";
    address: "Residential address in mainland China", "中国大陆居住地址";
    address_hint: "Where you live in China now: province, city, district, street, building and room. Not your address abroad; a hotel's address is fine if you live there.", "您目前在中国的住址：省、市、区、街道、楼栋和房间号。不是您在国外的地址；如住在酒店，可填写酒店地址。";
    pep: "Prominent public function", "重要公共职务";
    pep_hint: "Do you, a family member or a close associate hold, or did you hold, a prominent public function in any country or international organisation? For example a head of state or government, minister, member of parliament, senior judge, ambassador, senior military officer, senior executive of a state-owned company or senior party official. Answering yes does not stop your application; a senior staff member reviews it.", "您本人、家庭成员或密切关系人是否在任何国家或国际组织担任或曾经担任重要公共职务？例如国家元首或政府首脑、部长、议员、高级法官、大使、高级军官、国有企业高级管理人员或政党高级官员。回答“是”不会影响您申请，将由高级工作人员审核。";
    pep_no: "No", "否";
    pep_yes: "Yes", "是";
    pep_role: "Which function, and who holds or held it", "担任何种职务，以及担任者";
    pep_role_hint: "If you answered yes: e.g. \"my father, member of parliament of X until 2020\". Up to 200 characters.", "如回答“是”：例如“我的父亲，2020 年前任 X 国议员”。最多 200 个字符。";
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
    deposit_on_its_way_text: "We are paying an amount under 1 yuan into your card; banks take up to 1–2 days. This page changes by itself when it has arrived.", "我们正在向您的银行卡支付一笔 1 元以下的金额，银行最长需要 1–2 天。到账后此页面会自动更新。";
    amount_arrived_text: "The deposit has arrived. Find the amount under 1 yuan on your statement and enter it here.", "小额打款已到账。请在银行流水中找到这笔 1 元以下的金额并在此填写。";
    enter_amount: "Enter the amount you received", "请填写收到的金额";
    amount_label: "Amount in yuan, e.g. 0.37", "金额（元），例如 0.37";
    attempts_left: "Attempts left", "剩余次数";
    confirm_before: "Confirm before", "请在此时间前确认";
    under_review: "Your application is being reviewed", "您的申请正在审核中";
    back_home: "Back to the start", "返回首页";
    request_id: "Request id", "请求编号";
    error_title: "Something is not right", "出了点问题";
    verified_title: "You are authenticated", "认证成功";
    verified_text: "Your real-name authentication is complete.", "您已完成实名认证。";
    failed_title: "Authentication failed", "认证未通过";
    suspended_title: "Authentication cannot be completed", "无法完成实名认证";
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
    tab_second: "Second approval", "待复核";
    tab_delisted: "Delisted", "已除名";
    kind_column: "Kind", "类型";
    kind_application: "Application", "申请";
    kind_screening: "List screening", "名单筛查";
    kind_periodic: "Periodic review", "定期审查";
    periodic_help: "A periodic review of a verified customer: approving keeps their risk grade and grades them again, and the next review counts from today.", "对已认证客户的定期审查：通过即维持其风险等级并重新评级，下次审查从今天起算。";
    screening_case_title: "Listed persons this applicant may be", "申请人可能是的名单人员";
    screening_case_help: "Compare each listed person with the applicant: names, dates of birth, nationalities and documents. Dismiss when it is not the applicant (say why); confirm when it is. A confirmation, and a dismissal of a hit on a document number, need a second staff member.", "请将每一名单人员与申请人逐项比对：姓名、出生日期、国籍和证件。若并非申请人请排除（并说明理由）；若为申请人请确认。确认，以及排除证件号码命中，须由另一名工作人员复核。";
    hit_source: "List", "名单";
    hit_entry: "Entry", "条目";
    hit_score: "Score", "相似度";
    hit_names: "Listed names", "名单所列姓名";
    hit_closest: "Closest name", "最接近的姓名";
    hit_matched: "What matched", "匹配项";
    hit_action: "What it does", "处理方式";
    action_hold: "Holds (stops the payout until decided)", "暂停（决定前不付款）";
    action_flag: "Flags (informs only)", "标记（仅供参考）";
    disposition_potential_match: "Potential match", "疑似命中";
    disposition_near_miss: "Near miss", "接近命中";
    disposition_dismissed_before: "Dismissed before for this identity", "此前已对该身份排除";
    matched_name: "name", "姓名";
    matched_date_of_birth: "date of birth", "出生日期";
    matched_year_of_birth: "year of birth", "出生年份";
    matched_nationality: "nationality", "国籍";
    matched_document: "document number", "证件号码";
    dismiss: "Dismiss: not this person", "排除：并非此人";
    confirm_match: "Confirm: this is the listed person", "确认：即名单所列人员";
    lift: "Lift the measure (delisted)", "解除措施（已除名）";
    report_reference: "Report reference (to the authorities)", "报告编号（向主管机关）";
    dismissal_note: "Why it is not this person", "并非此人的理由";
    first_decision: "First decision", "第一次决定";
    delisted_text: "The entry behind this confirmed match is no longer on the list. An admin may lift the measure.", "该确认命中所依据的条目已不在名单上。管理员可解除措施。";
    outcome_dismissed: "Dismissed", "已排除";
    risk_title: "Risk grade", "风险等级";
    risk_low: "Low", "低";
    risk_medium: "Medium", "中";
    risk_high: "High", "高";
    risk_no_factor: "No factor of the risk policy applies.", "风险政策中的因素均不适用。";
    risk_points: "points", "分";
    outcome_confirmed: "Confirmed", "已确认";
    outcome_lifted: "Lifted", "已解除";
    audit_screening_decision: "Decided a screening case", "作出筛查决定";
    audit_screening_check: "Checked identities against the lists", "对照名单核查身份";
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

/// Texts with a value inside, where the two languages put it in different places.
impl Text {
    pub fn notice(&self, notice: super::Notice) -> &'static str {
        use super::Notice;
        match notice {
            Notice::AlreadySubmitted => self.notice_already_submitted(),
            Notice::Cancelled => self.notice_cancelled(),
            Notice::DocumentsFirst => self.notice_documents_first(),
            Notice::CardFirst => self.notice_card_first(),
            Notice::AlreadyVerified => self.notice_already_verified(),
            Notice::Blocked => self.notice_blocked(),
            Notice::SavedWithWarning => self.notice_saved_with_warning(),
            Notice::Claimed => self.notice_claimed(),
            Notice::Decided => self.notice_decided(),
            Notice::LoggedOut => self.notice_logged_out(),
        }
    }

    pub fn session_ends_soon(&self, at: &str) -> String {
        match self.lang {
            Lang::En => format!(
                "Your session ends at {at}. If it does, log in again: you come back here with what you typed."
            ),
            Lang::Zh => {
                format!("您的登录将于{at}过期。过期后请重新登录，将回到此页并保留已填写的内容。")
            }
        }
    }

    pub fn card_ending(&self, bank: &str, last4: &str) -> String {
        match self.lang {
            Lang::En => format!("{bank}, card ending {last4}"),
            Lang::Zh => format!("{bank}（尾号 {last4}）"),
        }
    }

    pub fn risk_summary(&self, grade: &str, score: u32, policy: &str) -> String {
        match self.lang {
            Lang::En => format!("{grade}: {score} points (risk policy {policy})"),
            Lang::Zh => format!("{grade}：{score} 分（风险政策 {policy}）"),
        }
    }

    pub fn decided_first(&self, outcome: &str, who: &str, at: &str) -> String {
        match self.lang {
            Lang::En => format!(
                "{who} decided “{outcome}” at {at}; another staff member decides the same to settle it."
            ),
            Lang::Zh => format!(
                "{who}于{at}作出“{outcome}”的决定；须由另一名工作人员作出相同决定方可生效。"
            ),
        }
    }

    pub fn held_by(&self, who: &str, until: &str) -> String {
        match self.lang {
            Lang::En => format!("Held by {who} until {until}"),
            Lang::Zh => format!("{who}认领中，至{until}"),
        }
    }

    pub fn erased_on(&self, at: &str) -> String {
        match self.lang {
            Lang::En => format!(
                "Erased on {at}, as the retention rules say. The status and its history are kept."
            ),
            Lang::Zh => format!("已于{at}按保存期限规定删除。认证状态及其记录仍保留。"),
        }
    }

    pub fn held_until(&self, at: &str) -> String {
        match self.lang {
            Lang::En => format!("until {at}, then erased"),
            Lang::Zh => format!("至{at}，之后删除"),
        }
    }

    pub fn held_draft(&self, at: &str) -> String {
        match self.lang {
            Lang::En => format!("until {at} if you do not go on with it, then erased"),
            Lang::Zh => format!("如不继续填写，保存至{at}，之后删除"),
        }
    }

    pub fn held_while_open(&self, days: i64) -> String {
        match self.lang {
            Lang::En => format!("while your account is open, and {days} days after you close it"),
            Lang::Zh => format!("账户存续期间，以及注销后 {days} 天"),
        }
    }

    pub fn consent_given(&self, version: &str, at: &str, address: &str) -> String {
        match self.lang {
            Lang::En => format!("text version {version}, given {at} from {address}"),
            Lang::Zh => format!("授权文本版本 {version}，于{at}从 {address} 作出"),
        }
    }

    pub fn review_expected(&self, due: &str) -> String {
        match self.lang {
            Lang::En => format!(
                "Staff review each application within the service level; expect a decision by {due}."
            ),
            Lang::Zh => format!("工作人员将在服务时限内完成审核，预计最晚于{due}前给出结果。"),
        }
    }
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
