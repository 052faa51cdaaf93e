"""Developer tools that are neither the service nor its tests: asset builds and the like."""
