-- When each token was last used (written by the server about once a minute, for `token list`).
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMP;
