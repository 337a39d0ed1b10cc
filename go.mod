module github.com/go-mtd/vat

go 1.26
