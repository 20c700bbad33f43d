package jute

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"testing"
)

// sampleRequests is one valid request of every kind the server accepts.
func sampleRequests() []struct {
	op  int32
	req Record
} {
	acl := []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}
	return []struct {
		op  int32
		req Record
	}{
		{OpCreate, &CreateRequest{Path: "/a", Data: []byte("x"), ACL: acl, Flags: FlagEphemeralSequential}},
		{OpCreate2, &CreateRequest{Path: "/a", Data: nil, ACL: acl, Flags: FlagPersistent}},
		{OpCreateContainer, &CreateRequest{Path: "/c", Data: []byte{}, ACL: acl, Flags: FlagContainer}},
		{OpCreateTTL, &CreateTTLRequest{Path: "/t", Data: []byte("d"), ACL: acl, Flags: FlagPersistentWithTTL, TTL: 1000}},
		{OpDelete, &PathVersionRequest{Path: "/a", Version: -1}},
		{OpCheck, &PathVersionRequest{Path: "/a", Version: 3}},
		{OpExists, &PathWatchRequest{Path: "/a", Watch: true}},
		{OpGetData, &PathWatchRequest{Path: "/a"}},
		{OpGetChildren2, &PathWatchRequest{Path: "/", Watch: true}},
		{OpSetData, &SetDataRequest{Path: "/a", Data: bytes.Repeat([]byte("v"), 100), Version: 7}},
		{OpGetACL, &PathRequest{Path: "/a"}},
		{OpSetACL, &SetACLRequest{Path: "/a", ACL: acl, Version: 0}},
		{OpSync, &PathRequest{Path: "/"}},
		{OpGetEphemerals, &PathRequest{Path: "/"}},
		{OpGetAllChildrenNumber, &PathRequest{Path: "/"}},
		{OpAuth, &AuthPacket{Scheme: "digest", Auth: []byte("u:p")}},
		{OpSetWatches, &SetWatches{RelativeZxid: 9, DataWatches: []string{"/a"}, ExistWatches: []string{"/b"}, ChildWatches: []string{"/"}}},
		{OpSetWatches2, &SetWatches{V2: true, RelativeZxid: 9, PersistentWatches: []string{"/p"}, PersistentRecursive: []string{"/r"}}},
		{OpAddWatch, &AddWatchRequest{Path: "/a", Mode: AddWatchPersistentRecursive}},
		{OpRemoveWatches, &WatchesRequest{Path: "/a", Type: WatcherAny}},
		{OpCheckWatches, &WatchesRequest{Path: "/a", Type: WatcherData}},
		{OpPing, &Empty{}},
		{OpCloseSession, &Empty{}},
		{OpWhoAmI, &Empty{}},
		{OpMulti, &MultiRequest{Ops: []MultiOp{
			{Type: OpCreate, Req: &CreateRequest{Path: "/m", ACL: acl}},
			{Type: OpCheck, Req: &PathVersionRequest{Path: "/m", Version: 0}},
			{Type: OpSetData, Req: &SetDataRequest{Path: "/m", Data: []byte("z"), Version: -1}},
			{Type: OpDelete, Req: &PathVersionRequest{Path: "/m", Version: -1}},
		}}},
		{OpMultiRead, &MultiRequest{Ops: []MultiOp{
			{Type: OpGetData, Req: &PathWatchRequest{Path: "/m"}},
			{Type: OpGetChildren, Req: &PathWatchRequest{Path: "/"}},
		}}},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, tc := range sampleRequests() {
		frame := Marshal(&RequestHeader{Xid: 5, Type: tc.op}, tc.req)
		d := NewDecoder(frame)
		var h RequestHeader
		h.Decode(d)
		got, err := DecodeRequest(h.Type, d)
		if err != nil {
			t.Fatalf("op %d: %v", tc.op, err)
		}
		if d.Remaining() != 0 {
			t.Errorf("op %d: %d bytes left over", tc.op, d.Remaining())
		}
		if !reflect.DeepEqual(got, tc.req) {
			t.Errorf("op %d: round trip\n got %#v\nwant %#v", tc.op, got, tc.req)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	st := Stat{Czxid: 1, Mzxid: 2, Ctime: 3, Mtime: 4, Version: 5, Cversion: 6, Aversion: 7, EphemeralOwner: 8, DataLength: 9, NumChildren: 10, Pzxid: 11}
	cases := []Record{
		&ConnectResponse{TimeOut: 4000, SessionID: 0x1234, Passwd: make([]byte, 16)},
		&Create2Response{Path: "/a0000000001", Stat: st},
		&GetDataResponse{Data: []byte("hello"), Stat: st},
		&Children2Response{Children: []string{"a", "b"}, Stat: st},
		&GetACLResponse{ACL: []ACL{{Perms: 31, ID: Id{"digest", "u:h"}}}, Stat: st},
		&WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}}},
		&MultiResponse{Results: []MultiResult{
			{Type: OpCreate, Resp: &PathResponse{Path: "/m"}},
			{Type: OpCreate2, Resp: &Create2Response{Path: "/n", Stat: st}},
			{Type: OpCheck},
			{Type: OpSetData, Resp: &StatResponse{Stat: st}},
			{Type: OpDelete},
			{Type: OpGetData, Resp: &GetDataResponse{Data: []byte("q"), Stat: st}},
			{Type: OpError, Err: ErrNoNode},
		}},
	}
	for _, want := range cases {
		b := Marshal(want)
		got := reflect.New(reflect.TypeOf(want).Elem()).Interface().(Record)
		if err := Unmarshal(b, got); err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%T round trip\n got %#v\nwant %#v", want, got, want)
		}
	}
}

func TestConnectRequestWithoutReadOnly(t *testing.T) {
	full := Marshal(&ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), ReadOnly: true})
	var r ConnectRequest
	if err := Unmarshal(full[:len(full)-1], &r); err != nil {
		t.Fatalf("old clients omit the readOnly byte: %v", err)
	}
	if r.TimeOut != 30000 || r.ReadOnly {
		t.Errorf("decoded %+v", r)
	}
	if err := Unmarshal(full, &r); err != nil || !r.ReadOnly {
		t.Errorf("with readOnly: %+v %v", r, err)
	}
}

func TestHostileLengths(t *testing.T) {
	cases := map[string][]byte{
		"buffer longer than frame": Marshal(&RequestHeader{Type: OpSetData}, &PathRequest{Path: "/a"}, &CountResponse{Number: 1 << 30}),
		"negative string length":   append(Marshal(&RequestHeader{Type: OpGetData}), 0xff, 0xff, 0xff, 0xf0),
		"huge ACL vector":          append(Marshal(&RequestHeader{Type: OpSetACL}, &PathRequest{Path: "/a"}), 0x7f, 0xff, 0xff, 0xff),
		"huge children vector":     append(Marshal(&RequestHeader{Type: OpSetWatches}), 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff),
		"multi op not allowed":     Marshal(&RequestHeader{Type: OpMulti}, &MultiHeader{Type: OpSync}, &PathRequest{Path: "/"}),
		"unterminated multi":       Marshal(&RequestHeader{Type: OpMulti}, &MultiHeader{Type: OpDelete}, &PathVersionRequest{Path: "/"}),
	}
	for name, frame := range cases {
		d := NewDecoder(frame)
		var h RequestHeader
		h.Decode(d)
		if _, err := DecodeRequest(h.Type, d); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// decodeFrame is what the server does with every frame after the
// handshake: a header, then the body its op names.
func decodeFrame(frame []byte) {
	d := NewDecoder(frame)
	var h RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return
	}
	if r, err := DecodeRequest(h.Type, d); err == nil {
		// Whatever decoded must encode again without trouble.
		_ = Marshal(r)
	}
	var c ConnectRequest
	_ = Unmarshal(frame, &c)
}

func FuzzDecodeRequest(f *testing.F) {
	for _, tc := range sampleRequests() {
		f.Add(Marshal(&RequestHeader{Xid: 1, Type: tc.op}, tc.req))
	}
	f.Add(Marshal(&ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16)}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		decodeFrame(frame)
	})
}

// TestDecodeMutations is a short, seeded mutation run over the same seeds
// as FuzzDecodeRequest, so every `go test ./...` exercises the decoder
// with broken input even when nobody runs -fuzz.
func TestDecodeMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var seeds [][]byte
	for _, tc := range sampleRequests() {
		seeds = append(seeds, Marshal(&RequestHeader{Xid: 1, Type: tc.op}, tc.req))
	}
	n := 50000
	if testing.Short() {
		n = 5000
	}
	for i := 0; i < n; i++ {
		b := append([]byte(nil), seeds[rng.IntN(len(seeds))]...)
		for k := rng.IntN(4) + 1; k > 0 && len(b) > 0; k-- {
			switch rng.IntN(4) {
			case 0:
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			case 1:
				b = b[:rng.IntN(len(b))]
			case 2:
				p := rng.IntN(len(b))
				b[p] = 0xff
			case 3:
				b = append(b, byte(rng.IntN(256)))
			}
		}
		decodeFrame(b)
	}
}
