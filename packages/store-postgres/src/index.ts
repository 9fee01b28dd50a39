// @flowsafe/store-postgres public API
