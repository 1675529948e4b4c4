// Package store holds what every secret store pushvault writes leaks to
// shares: the item to store (Item, Source), where it went (Stored), and the
// one vocabulary of the metadata each store keeps beside the value
// (Vault KV custom_metadata, AWS Secrets Manager tags). The ports that use
// them are declared by their consumers: remediator.SecretStore (write once,
// the reference a fix writes) and rotate.Store (state, versions, the exposed
// version). remediator/vault and remediator/awssm implement both.
package store
