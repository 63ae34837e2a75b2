package postgres

import (
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerUUID teaches a connection's type map github.com/google/uuid
// directly. pgx otherwise sees a uuid.UUID only as a driver.Valuer and a
// sql.Scanner: every id sent is formatted as text (after a failed binary
// attempt that builds an error with fmt.Errorf) and every id read is
// parsed from text, some 5–9% of the service's CPU per request in the
// profile (docs/performance.md). With this codec an id goes over the wire
// as its 16 bytes, both ways; uuid[] parameters and columns use it too.
func registerUUID(m *pgtype.Map) {
	elem := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: googleUUIDCodec{}}
	m.RegisterType(elem)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: elem}})
}

// googleUUIDCodec is pgx's UUID codec with uuid.UUID as a native value.
type googleUUIDCodec struct{ pgtype.UUIDCodec }

func (c googleUUIDCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(uuid.UUID); ok {
		if next := c.UUIDCodec.PlanEncode(m, oid, format, pgtype.UUID{}); next != nil {
			return encodeGoogleUUID{next: next}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

func (c googleUUIDCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok {
		if next := c.UUIDCodec.PlanScan(m, oid, format, &pgtype.UUID{}); next != nil {
			return scanGoogleUUID{next: next}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type encodeGoogleUUID struct{ next pgtype.EncodePlan }

func (p encodeGoogleUUID) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(pgtype.UUID{Bytes: value.(uuid.UUID), Valid: true}, buf) //nolint:forcetypeassert // planned for uuid.UUID only.
}

type scanGoogleUUID struct{ next pgtype.ScanPlan }

// Scan leaves the zero id for NULL, as uuid.UUID's own Scan does; nullable
// columns are scanned into *uuid.UUID, where NULL is nil.
func (p scanGoogleUUID) Scan(src []byte, dst any) error {
	var v pgtype.UUID
	if err := p.next.Scan(src, &v); err != nil {
		return err
	}
	*dst.(*uuid.UUID) = v.Bytes //nolint:forcetypeassert // planned for *uuid.UUID only.
	return nil
}
