DROP TABLE test_login_reports;
