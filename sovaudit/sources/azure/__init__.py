"""Azure Monitor: the activity log (REST API or exports) and resource logs such as Key Vault and Storage, into the
azure_activity and azure_resource tables."""

from sovaudit.sources.azure.source import AzureActivitySource, AzureFilesSource, AzureStorageSource

SOURCES = (AzureActivitySource(), AzureStorageSource(), AzureFilesSource())
