using Cube.Testing;

// One moto process serves every S3 test in this assembly.
[assembly: AssemblyFixture(typeof(MotoServer))]
