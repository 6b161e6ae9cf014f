# Lookout silo image: build with the .NET 10 SDK, run on the ASP.NET runtime.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# npm installs uap-core's user-agent regexes during the build.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish src/Lookout.Api -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["dotnet", "Lookout.Api.dll"]
