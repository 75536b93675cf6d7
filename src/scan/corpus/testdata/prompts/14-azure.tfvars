terraform plan fails on the storage account data source, my terraform.tfvars:

location              = "westeurope"
client_id             = "35ff8cdf-ff05-4851-a88f-ec6fcc4d0f19"
client_secret         = "kyT7Q~.3Uu-jb5~fDKcL5OBNeYg4Op16F_pKghmS"
tenant_id             = "11e21202-a952-4c7a-a052-6fe2c2523913"
storage_connection    = "DefaultEndpointsProtocol=https;AccountName=acmelogs;AccountKey=+NuRRmy4/uZ/ngmIXRpSEnWPV/X6dfvT1s7aUgD2OqQEfsiuXEEOjA7xDMwbDpYzhlvUcRlg1rIyVswzC1boWg==;EndpointSuffix=core.windows.net"
