global using System.Net;
global using System.Net.Http.Json;
global using Cube.Testing;
global using Microsoft.EntityFrameworkCore;
global using Microsoft.Extensions.DependencyInjection;
