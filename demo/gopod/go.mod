module streamgate.invalid/gopod

go 1.19
