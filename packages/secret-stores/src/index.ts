// @flowsafe/secret-stores public API
