"""Channel intake from sales platforms: Shopify and WooCommerce order webhooks.

``views``     the two endpoints (``/api/v1/channels/{code}/intake/shopify/`` and
              ``.../woocommerce/``): verify the platform's HMAC with the channel's secret,
              keep the raw delivery (``kernel.models.IntakeDelivery``), hand it to services
``shopify``, ``woocommerce``
              header names, topics, signature scheme and the mapping of the platform's
              order JSON to a ``common.MappedOrder``
``services``  placement, edits and cancellation of the order the delivery describes
``admin``     the channel admin's intake part: secret generation and rotation, URLs
"""
