// Package alerts keeps what detectors raise: it stores each alert, lets
// analysts judge it (true positive, false positive, benign), turns false
// positives into a suppression list the detectors' output is checked
// against, and computes the false-positive rate.
//
// Raise never blocks the detector that calls it: alerts go through a bounded
// queue to a writer, and what does not fit is counted.
package alerts
