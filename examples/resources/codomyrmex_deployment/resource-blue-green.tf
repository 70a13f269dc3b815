# Blue/green: the new version goes to the idle slot; only when all of it is
# healthy does active_slot flip. Without router_url, your own load balancer
# follows active_slot (see the guide "Blue/green with your own load balancer").
resource "codomyrmex_deployment" "shop" {
  name    = "shop"
  version = "5.2.0"

  targets = [
    { id = "shop-blue-1", address = "http://10.0.2.11:8080", slot = "blue" },
    { id = "shop-blue-2", address = "http://10.0.2.12:8080", slot = "blue" },
    { id = "shop-green-1", address = "http://10.0.2.21:8080", slot = "green" },
    { id = "shop-green-2", address = "http://10.0.2.22:8080", slot = "green" },
  ]

  blue_green = {}
}

output "shop_live_slot" {
  description = "The slot serving traffic: point the load balancer's pool at it."
  value       = codomyrmex_deployment.shop.active_slot
}
