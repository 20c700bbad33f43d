package jute

import "fmt"

// NewRequest returns an empty record for op's request body, or an error
// naming the op when the server does not take it.
func NewRequest(op int32) (Record, error) {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}, nil
	case OpCreateTTL:
		return &CreateTTLRequest{}, nil
	case OpDelete, OpCheck, OpDeleteContainer:
		if op == OpDeleteContainer {
			return &PathRequest{}, nil
		}
		return &PathVersionRequest{}, nil
	case OpExists, OpGetData, OpGetChildren, OpGetChildren2:
		return &PathWatchRequest{}, nil
	case OpSetData:
		return &SetDataRequest{}, nil
	case OpGetACL, OpSync, OpGetAllChildrenNumber, OpGetEphemerals:
		return &PathRequest{}, nil
	case OpSetACL:
		return &SetACLRequest{}, nil
	case OpMulti, OpMultiRead:
		return &MultiRequest{}, nil
	case OpAuth:
		return &AuthPacket{}, nil
	case OpSetWatches:
		return &SetWatches{}, nil
	case OpSetWatches2:
		return &SetWatches{V2: true}, nil
	case OpAddWatch:
		return &AddWatchRequest{}, nil
	case OpRemoveWatches, OpCheckWatches:
		return &WatchesRequest{}, nil
	case OpPing, OpCloseSession, OpWhoAmI:
		return &Empty{}, nil
	}
	return nil, fmt.Errorf("jute: unknown op code %d", op)
}

// DecodeRequest decodes op's request body from d. Trailing bytes are
// allowed, as ZooKeeper allows them.
func DecodeRequest(op int32, d *Decoder) (Record, error) {
	r, err := NewRequest(op)
	if err != nil {
		return nil, err
	}
	r.Decode(d)
	if d.Err() != nil {
		return nil, fmt.Errorf("decode op %d: %w", op, d.Err())
	}
	return r, nil
}
