package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// IsUniqueViolation reports whether err is a unique violation (SQLSTATE
// 23505) of the named constraint, the way a store learns that the database
// refused a second row where the rule allows one: a second refund, a
// second redemption of a coupon by one customer.
func IsUniqueViolation(err error, constraint string) bool {
	return violates(err, "23505", constraint)
}

// IsCheckViolation reports whether err is a CHECK violation (SQLSTATE
// 23514) of the named constraint: the backstop behind a conditional
// UPDATE, such as stock that would go below zero.
func IsCheckViolation(err error, constraint string) bool {
	return violates(err, "23514", constraint)
}

func violates(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && pgErr.ConstraintName == constraint
}
