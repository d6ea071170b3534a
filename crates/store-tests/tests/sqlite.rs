//! The conformance suite on SQLite.
realname_store_tests::all_cases!(realname_store_tests::backends::sqlite());
