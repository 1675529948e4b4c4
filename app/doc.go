// Package app is pushvault's composition root: it turns command-line
// options and configuration into wired components and runs them. Nothing
// else imports it.
package app
