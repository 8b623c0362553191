// Package memberlistkey reads the speakers' gossip keyring from its Secret
// and keeps a running speaker's memberlist on it as the Secret changes.
//
// The Secret's data key "secretkey" is the primary key, which every speaker
// encrypts with; each further data key "secretkey.<suffix>" (secretkey.next,
// secretkey.old) is a secondary key, accepted from the others. Parse, pure,
// turns the data into a keyring; Read reads it once at start, and Watcher
// applies every change with liveness.SetKeys, keeping the last good keyring
// when the Secret becomes invalid or goes away.
package memberlistkey
