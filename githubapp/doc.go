// Package githubapp holds everything that speaks GitHub: the GitHub App
// manifest (app.yml) that `pushvault setup` registers; the webhook endpoint
// (signature check, size limit, one Event handed to an Enqueuer); the
// installation client factory (ghinstallation tokens, cached until near
// expiry) and the transport that waits out GitHub's rate limits; and the
// logger carried in a context with an event's stable keys. Check runs and
// fix pull requests build on it.
package githubapp
