// @flowsafe/redact public API
