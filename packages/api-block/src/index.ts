// @flowsafe/api-block public API
