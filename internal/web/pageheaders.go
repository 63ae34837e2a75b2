package web

import (
	"github.com/labstack/echo/v5"
)

// PageCSP is the Content-Security-Policy of the HTML pages the service
// serves (today only the staff dashboard, docs/07-nested-validation.md).
// The page may run only its own scripts and styles, fetched from this
// origin, and talk only to this origin's API. Each directive closes one way
// a stored payload could run or leak:
//   - script-src 'self' with no 'unsafe-inline' or 'unsafe-eval': injected
//     <script> elements, on* handlers, javascript: URLs and eval refuse to
//     run even if markup did reach the page.
//   - connect-src and img-src 'self': a script that did run could not send
//     the token to another host by fetch or by an image URL.
//   - object-src, base-uri 'none': no plugins; no <base> to re-point the
//     page's relative script URLs.
//   - form-action 'none': the page submits its forms with fetch; a form
//     submitted natively (script failed to load) would put the password in
//     a URL, so no native submission may leave at all.
//   - frame-ancestors 'none': no framing (clickjacking of staff buttons).
//   - require-trusted-types-for 'script' with trusted-types 'none': in
//     browsers that enforce Trusted Types, every HTML-parsing sink
//     (innerHTML, outerHTML, insertAdjacentHTML, document.write) throws when
//     given a string, so a regression to one of them breaks loudly
//     instead of rendering markup. The page needs no policy: it only ever
//     sets textContent.
const PageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// PageHeaders replaces the API's Content-Security-Policy (SecurityHeaders:
// default-src 'none', which would stop a page from running any script) with
// PageCSP, on the routes that serve a page and its files. It runs after
// SecurityHeaders, so every other header SecurityHeaders sets (nosniff,
// no-store, X-Frame-Options, Referrer-Policy, ...) stays as it is.
func PageHeaders() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			c.Response().Header().Set("Content-Security-Policy", PageCSP)
			return next(c)
		}
	}
}
