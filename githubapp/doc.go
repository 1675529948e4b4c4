// Package githubapp holds everything that speaks GitHub: for now the GitHub
// App manifest (app.yml) that `pushvault setup` registers; webhook handling,
// check runs and fix pull requests build on it.
package githubapp
