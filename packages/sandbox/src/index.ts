// @flowsafe/sandbox public API
