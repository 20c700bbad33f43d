// Package jute encodes and decodes the ZooKeeper client wire protocol as
// Apache ZooKeeper 3.8's zookeeper.jute defines it: big-endian ints and longs,
// one-byte booleans, length-prefixed buffers and strings (-1 for null) and
// vectors. Every record has Encode and Decode; decoding never trusts a length
// it has not checked against the bytes that are actually there, so a hostile
// frame fails cleanly instead of allocating or panicking.
//
//	d := jute.NewDecoder(frame)
//	var h jute.RequestHeader
//	h.Decode(d)
//	req, err := jute.DecodeRequest(h.Type, d)
package jute
