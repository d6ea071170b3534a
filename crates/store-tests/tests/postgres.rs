//! The conformance suite on PostgreSQL (a database per test on the test server).
realname_store_tests::all_cases!(realname_store_tests::backends::postgres());
