// Package webhookload is the hostile traffic `pushvault serve`'s webhook
// endpoint must survive — slow clients (slowloris) and floods of unsigned
// bodies of GitHub's largest size — and the signed delivery whose ack time
// it must keep meanwhile. The serve test and the benchmark's -app mode both
// run it, so the figure and the test measure the same attack.
package webhookload
