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
    switch_language: "中文", "English";
    log_in: "Log in", "登录";
    log_out: "Log out", "退出";
    register: "Create an account", "注册账户";
    login_label: "E-mail or phone number", "电子邮箱或手机号码";
    password_label: "Password", "密码";
    password_hint: "At least 8 characters.", "至少 8 个字符。";
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
            assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) || key == "switch_language", "{key}");
        }
        assert_eq!(Text { lang: Lang::Zh }.log_in(), "登录");
    }
}
