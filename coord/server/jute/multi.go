package jute

import "fmt"

// MultiOp is one operation of a multi or multiRead: Type is its op code
// and Req one of *CreateRequest, *CreateTTLRequest, *PathVersionRequest
// (delete, check), *SetDataRequest or *PathWatchRequest (getChildren,
// getData in multiRead).
type MultiOp struct {
	Type int32
	Req  Record
}

// MultiRequest is the body of multi (op 14) and multiRead (op 22).
type MultiRequest struct{ Ops []MultiOp }

func (r *MultiRequest) Encode(e *Encoder) {
	for _, op := range r.Ops {
		h := MultiHeader{Type: op.Type, Done: false, Err: -1}
		h.Encode(e)
		op.Req.Encode(e)
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

// Decode reads ops until the done header. Each op costs at least a 9-byte
// header from the frame, so a forged frame cannot make the slice outgrow it.
func (r *MultiRequest) Decode(d *Decoder) {
	r.Ops = nil
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		var req Record
		switch h.Type {
		case OpCreate, OpCreate2, OpCreateContainer:
			req = &CreateRequest{}
		case OpCreateTTL:
			req = &CreateTTLRequest{}
		case OpDelete, OpCheck:
			req = &PathVersionRequest{}
		case OpSetData:
			req = &SetDataRequest{}
		case OpGetChildren, OpGetData:
			req = &PathWatchRequest{}
		default:
			d.fail(fmt.Errorf("jute: op %d cannot be part of a multi", h.Type))
			return
		}
		req.Decode(d)
		r.Ops = append(r.Ops, MultiOp{Type: h.Type, Req: req})
	}
}

// MultiResult is one result of a multi: Type is the op code (or OpError,
// with Err set), Resp the body (nil for delete and check).
type MultiResult struct {
	Type int32
	Err  int32
	Resp Record
}

// MultiResponse answers multi and multiRead.
type MultiResponse struct{ Results []MultiResult }

func (r *MultiResponse) Encode(e *Encoder) {
	for _, res := range r.Results {
		h := MultiHeader{Type: res.Type, Done: false, Err: 0}
		if res.Type == OpError {
			h.Err = res.Err
		}
		h.Encode(e)
		switch {
		case res.Type == OpError:
			(&ErrorResponse{Err: res.Err}).Encode(e)
		case res.Resp != nil:
			res.Resp.Encode(e)
		}
	}
	end := MultiHeader{Type: -1, Done: true, Err: -1}
	end.Encode(e)
}

func (r *MultiResponse) Decode(d *Decoder) {
	r.Results = nil
	for d.Err() == nil {
		var h MultiHeader
		h.Decode(d)
		if d.Err() != nil || h.Done {
			return
		}
		res := MultiResult{Type: h.Type, Err: h.Err}
		switch h.Type {
		case OpCreate:
			res.Resp = &PathResponse{}
		case OpCreate2, OpCreateTTL, OpCreateContainer:
			res.Resp = &Create2Response{}
		case OpSetData:
			res.Resp = &StatResponse{}
		case OpGetChildren:
			res.Resp = &ChildrenResponse{}
		case OpGetData:
			res.Resp = &GetDataResponse{}
		case OpError:
			var er ErrorResponse
			er.Decode(d)
			res.Err = er.Err
		case OpDelete, OpCheck:
		default:
			d.fail(fmt.Errorf("jute: op %d in a multi response", h.Type))
			return
		}
		if res.Resp != nil {
			res.Resp.Decode(d)
		}
		r.Results = append(r.Results, res)
	}
}
