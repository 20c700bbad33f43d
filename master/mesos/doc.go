// Package mesos is the contract every Strata component speaks: the Mesos v1
// scheduler and operator APIs as JSON, resource arithmetic, and the parsers
// for the agent's --resources and --attributes flags.
//
// A framework written for Mesos' v1 HTTP API must run on Strata unchanged,
// so the types follow include/mesos/v1/{mesos,scheduler/scheduler,
// master/master,quota/quota}.proto field for field, and encode the way
// Mesos' C++ JSON codec does:
//
//   - field names are the proto's snake_case; unset optional fields are
//     omitted (fields whose proto default matters are pointers with a Get
//     method returning the default: Filters.GetRefuseSeconds is 5);
//   - IDs are Go strings that travel as {"value": "..."};
//   - enums are Go string types holding Mesos' names;
//   - 64-bit integers are JSON numbers, bytes are standard base64;
//   - null means unset.
//
// Decoding is lenient where Mesos' is: doubles and 64-bit integers may come
// as strings ("5", "Infinity"), unknown fields are ignored, and unknown enum
// names are kept rather than rejected, so a client never drops an event it
// half understands. Servers are strict afterwards: DecodeCall,
// DecodeOperatorCall and Validate report unknown enum names, missing
// required fields, bad IDs and invalid resources as FieldErrors naming the
// JSON path ("accept.operations[0].launch.task_infos[0].resources[1]
// .scalar.value: negative value -1"), ready to become a 400.
//
// The loop of the scheduler API, as the types see it:
//
//	call, err := mesos.DecodeCall(body)   // POST /api/v1/scheduler
//	...
//	w := recordio.NewWriter(rw)           // SUBSCRIBE's stream
//	w.Encode(&mesos.Event{Type: mesos.EventSubscribed, Subscribed: ...})
//	w.Encode(&mesos.Event{Type: mesos.EventOffers, Offers: &mesos.Offers{...}})
//
// Resources use fixed-point scalars (thousandths, as Mesos rounds them) so
// sums never drift, and Resources implements Mesos' arithmetic: Add,
// Subtract (never negative), Contains, reservation filters that understand
// hierarchical roles, and the reservation formats (ResourceFormat) that
// older frameworks and the operator API expect.
package mesos
