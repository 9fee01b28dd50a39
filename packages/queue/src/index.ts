// @flowsafe/queue public API
