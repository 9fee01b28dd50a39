// @flowsafe/secrets public API
