// served by Spring: FallbackMappingIntegrationTest
