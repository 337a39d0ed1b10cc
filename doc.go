// Package vat is a client for HMRC's VAT (Making Tax Digital) API.
package vat
