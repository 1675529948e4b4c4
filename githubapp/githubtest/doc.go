// Package githubtest is a GitHub stand-in for tests and the local demo: an
// HTTP server that behaves like GitHub for everything pushvault uses and is
// held to GitHub's own published contract. REST requests and successful
// responses are validated against GitHub's OpenAPI description and every
// webhook payload against GitHub's webhook description (package contract);
// a violation fails the test that caused it, naming the operation and the
// schema rule. Repositories are real bare git repositories served over
// smart HTTP by `git http-backend`, authenticated with installation tokens
// (basic auth x-access-token:<token>); every push that lands, and every ref
// moved through the API, produces signed push webhooks built from what git
// did. Installation tokens come from App JWTs verified against the App's
// key, expire on the stand-in's (injectable) clock and die when revoked:
// as on GitHub, POST /credentials/revoke answers 202 and the credentials stop
// working only after a delay (WithRevocationDelay). That endpoint is
// unauthenticated at the root path (github.com: an authenticated request is
// answered 403) and authenticated under GitHub Enterprise Server's /api/v3
// prefix (401 without a token), every other operation being the same under
// both.
// Check runs, pull requests (merged for real in the bare repository),
// comments, issues, labels, revoked credentials and webhook deliveries are
// kept in memory and readable by tests; faults (5xx, rate limits, 422,
// slow answers, dropped deliveries) are injected on demand.
//
// Webhooks are delivered synchronously, before the request that caused them
// (the git push, the merge, the ref update) is answered, so a test sees them
// as soon as its call returns; GitHub does not retry and neither does the
// stand-in, but every delivery is recorded and can be redelivered under its
// original X-GitHub-Delivery.
package githubtest
