// Package airbyte speaks the Airbyte protocol, the contract for extraction:
// typed protocol messages that keep unknown fields, a streaming JSONL codec
// with no line-length limit, a Source interface (spec, check, discover,
// read), config validation against a connector's JSON schema, a runner for
// any connector executable or docker image, and a registry of native Go
// sources.
//
// Reading a connector's output:
//
//	dec := airbyte.NewDecoder(r) // lines that are not messages become LOG messages
//	for m, err := range dec.Messages() {
//		if err != nil {
//			return err
//		}
//		if m.Type == airbyte.TypeRecord {
//			fmt.Println(m.Record.Stream, string(m.Record.Data)) // data stays raw JSON
//		}
//	}
//
// Running a connector:
//
//	src := airbyte.NewProcessSource(airbyte.Command{Path: "python", Args: []string{"-m", "source_x"}},
//		airbyte.WithLogger(logger),
//		airbyte.WithControlHandler(saveNewConfig)) // rotated credentials
//	rs, err := src.Read(ctx, config, catalog, state) // config validated against the spec first
//	defer rs.Close()
//	for m, err := range rs.Messages() { ... } // a failure is a *ConnectorError
//
// Images run through "docker run --rm -i" with NewDockerSource. Native
// sources (airbyte/source/...) register themselves with RegisterSource and
// are created with NewSource; wrap them with Validating to check configs
// before they run.
//
// In-process consumers may ask a native source for typed records
// (EnableTypedRecords): RECORD messages then carry Values, the data as Go
// values, instead of JSON; DataJSON and Materialize give the JSON form.
// A consumer that copies the values out may also hand each typed record
// back for reuse (EnableRecordRelease, ReleaseRecord).
// Connector processes, encoders and validation only ever see JSON.
//
// Messages of a known type always carry their payload (a RECORD has Record,
// and so on). Unknown message types, enum values and members are kept, so a
// message decoded and encoded again says what it said.
package airbyte
