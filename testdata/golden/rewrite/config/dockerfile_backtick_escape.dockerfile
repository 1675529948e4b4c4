# escape=`
FROM mcr.microsoft.com/windows/servercore
ENV GITHUB_TOKEN=vault:secret/data/pushvault/acme/shop/github_token#value `
    PATH=C:\tools
