from sidebar import auth_urls, customer_urls, material_urls

app_name = "sidebar"
# Sign-in, JS-SDK and the shell page; then the customer screens.
urlpatterns = auth_urls.urlpatterns + customer_urls.urlpatterns + material_urls.urlpatterns
