// Each test class starts a 3-node cluster and a browser; one at a time keeps a 2-core machine responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
