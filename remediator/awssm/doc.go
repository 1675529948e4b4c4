// Package awssm is pushvault's AWS Secrets Manager store (the server's
// store: aws_secretsmanager): one secret per finding, named from a
// template, its value a JSON object of the finding's keys, its metadata in
// tags, every version written with a client request token derived from the
// finding so a retried or repeated write adds nothing; and the resolver of
// vals ref+awssecrets:// references for `pushvault exec`.
package awssm
