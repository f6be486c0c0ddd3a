"""The demo's fixed facts: points, channels, catalogue, people, reasons."""

from decimal import Decimal

from kernel import roles

SEED = 20260126
MARKER_SKU = "TSHIRT-BLK-S"  # present = the demo has been seeded
CURRENCY = "BRL"

# The tables below are data, laid out as tables.
# fmt: off

# --------------------------------------------------------------------------- users

DEMO_USERS = [
    # username, password, group, is_staff, what for
    ("manager", "manager-demo-2026", roles.MANAGER, True, "staff pages + admin"),
    ("warehouse", "warehouse-demo-2026", roles.WAREHOUSE, False, "warehouse floor, no admin"),
    ("integration", "integration-demo-2026", roles.INTEGRATION, False, "API (token below)"),
]

# --------------------------------------------------------------------------- catalogue

# code, name, kind, city, region, postcode, address, lat, lon, priority
WAREHOUSES = [
    ("SP-01", "CD São Paulo", "warehouse", "São Paulo", "SP", "03162-000",
     "Rua Cavour 1200, Vila Prudente", "-23.585000", "-46.582000", 10),
    ("MG-01", "3PL Belo Horizonte (LogMinas)", "3pl", "Belo Horizonte", "MG", "31255-010",
     "Avenida Antônio Carlos 7500, Pampulha", "-19.861000", "-43.959000", 20),
    ("RJ-01", "Loja Rio de Janeiro, Centro", "store", "Rio de Janeiro", "RJ", "20040-020",
     "Rua da Assembleia 35, Centro", "-22.904000", "-43.176000", 30),
    ("PR-01", "Loja Curitiba, Batel", "store", "Curitiba", "PR", "80420-090",
     "Avenida do Batel 1868, Batel", "-25.442000", "-49.292000", 40),
]

# Shipments per business day each point can ship (its team; the delay projection's pace).
DAILY_CAPACITY = {"SP-01": 40, "MG-01": 30, "RJ-01": 8, "PR-01": 8}

# code, name, kind, auto_confirm, handling_days, routing_strategy
CHANNELS = [
    ("web", "Web store", "web_store", False, 2, ""),
    ("amazon-br", "Amazon Brasil", "marketplace", True, 1, ""),
    ("mercadolivre", "Mercado Livre", "marketplace", True, 2, ""),
    ("instagram", "Instagram Shopping", "social", False, 2, ""),
    ("pos", "Loja Rio (PDV)", "pos", True, 0, "nearest"),
    ("api", "API", "api", False, 2, ""),
    ("csv", "CSV import", "csv", False, 2, ""),
]
CHANNEL_WEIGHTS = {
    "web": 34, "amazon-br": 24, "mercadolivre": 24, "instagram": 8, "api": 5, "csv": 5,
}
MARKETPLACES = {"amazon-br", "mercadolivre", "api", "csv"}  # paid when the order arrives

# Stocking profiles: which points carry a product.
#   core: SP-01 + MG-01    sp: SP-01 only     fashion: SP-01 + both stores
#   mg: MG-01 only (bulky, the 3PL)            store: stores only (exclusives)
#   oos: nowhere (backordered)                 po: nothing until a purchase order lands
# base sku, name, category, price, grams, (l, w, h) cm, lead days, popularity, profile,
# variants: (sku suffix, name suffix)
CATALOGUE = [
    ("TSHIRT", "Cotton T-shirt", "apparel", "49.90", 180, (30, 25, 2), 15, 9, "fashion",
     [(f"{c}-{s}", f"{cn}, {s}") for c, cn in (("BLK", "black"), ("WHT", "white"))
      for s in ("S", "M", "L")]),
    ("HOODIE", "Hooded sweatshirt", "apparel", "159.90", 650, (35, 30, 8), 20, 5, "fashion",
     [(s, s) for s in ("S", "M", "L")]),
    ("JEANS", "Slim fit jeans", "apparel", "189.90", 600, (35, 30, 5), 20, 5, "fashion",
     [(s, f"size {s}") for s in ("38", "40", "42")]),
    ("SNEAKER", "Running sneakers", "apparel", "299.90", 900, (33, 22, 12), 30, 6, "fashion",
     [(s, f"size {s}") for s in ("39", "40", "41", "42")]),
    ("CAP", "Baseball cap", "apparel", "59.90", 120, (25, 18, 12), 15, 3, "store",
     [("NAV", "navy"), ("KHK", "khaki")]),
    ("SUNGLASS", "Polarized sunglasses", "accessories", "159.90", 80, (16, 7, 5), 30, 3,
     "store", [("CLASSIC", "classic"), ("AVIATOR", "aviator")]),
    ("MUG", "Ceramic mug 350 ml", "kitchen", "39.90", 400, (12, 12, 10), 10, 7, "core",
     [("WHT", "white"), ("BLU", "blue")]),
    ("CUTLERY-24", "Stainless cutlery set, 24 pieces", "kitchen", "129.90", 1500, (30, 20, 6),
     25, 3, "sp", []),
    ("PAN-28", "Non-stick frying pan 28 cm", "kitchen", "149.90", 1100, (50, 30, 8), 20, 4,
     "core", []),
    ("AIRFRYER-4L", "Air fryer 4 L", "appliances", "399.90", 4500, (35, 30, 35), 45, 4, "oos",
     []),
    ("BLENDER-600", "Blender 600 W", "appliances", "219.90", 2800, (25, 25, 40), 30, 3, "mg",
     []),
    ("COFFEE-30", "Drip coffee maker, 30 cups", "appliances", "169.90", 2000, (30, 25, 35), 30,
     3, "mg", []),
    ("PILLOW", "Pillow 50x70 cm", "home", "59.90", 700, (70, 50, 15), 15, 4, "core",
     [("SOFT", "soft"), ("FIRM", "firm")]),
    ("TOWEL", "Bath towel", "home", "44.90", 500, (70, 40, 5), 15, 5, "core",
     [("WHT", "white"), ("GRY", "grey"), ("BLU", "blue")]),
    ("SHEETS-Q", "Bed sheet set, queen", "home", "139.90", 1200, (35, 30, 8), 20, 3, "sp", []),
    ("HEADPHONE", "Bluetooth headphones", "electronics", "249.90", 300, (20, 18, 8), 30, 6,
     "core", [("BLK", "black"), ("WHT", "white")]),
    ("CHARGER-20W", "USB-C charger 20 W", "electronics", "79.90", 120, (10, 6, 4), 20, 8, "core",
     []),
    ("CABLE-USBC-1M", "USB-C cable 1 m", "electronics", "29.90", 60, (15, 10, 2), 20, 10, "core",
     []),
    ("POWERBANK-10K", "Power bank 10,000 mAh", "electronics", "119.90", 250, (15, 8, 3), 30, 5,
     "sp", []),
    ("SPEAKER-BT", "Portable Bluetooth speaker", "electronics", "199.90", 600, (20, 10, 10), 40,
     5, "po", []),
    ("SMARTWATCH", "Smartwatch", "electronics", "399.90", 200, (12, 10, 8), 45, 4, "oos", []),
    ("MOUSE-WL", "Wireless mouse", "electronics", "89.90", 150, (14, 8, 5), 20, 5, "core", []),
    ("KEYBOARD-MEC", "Mechanical keyboard", "electronics", "349.90", 1100, (45, 15, 5), 45, 3,
     "oos", []),
    ("CASE", "Phone case", "accessories", "39.90", 50, (18, 10, 2), 15, 6, "sp",
     [("IP15", "iPhone 15"), ("S24", "Galaxy S24"), ("G84", "Moto G84")]),
    ("BOOK-COOK", "Brazilian home cooking (book)", "books", "69.90", 800, (28, 21, 3), 10, 3,
     "sp", []),
    ("NOTEBOOK-A5", "Notebook A5, dotted", "stationery", "24.90", 250, (21, 15, 2), 10, 5,
     "core", [("BLK", "black"), ("GRN", "green"), ("RED", "red")]),
    ("PENS-10", "Gel pens, 10 colours", "stationery", "34.90", 100, (18, 10, 2), 10, 4, "core",
     []),
    ("YOGAMAT", "Yoga mat 6 mm", "sports", "99.90", 1200, (62, 15, 15), 20, 4, "mg", []),
    ("DUMBBELL-5", "Dumbbell 5 kg", "sports", "89.90", 5000, (30, 12, 12), 25, 3, "mg", []),
    ("BOTTLE-750", "Water bottle 750 ml", "sports", "49.90", 300, (26, 8, 8), 15, 6, "core",
     [("BLK", "black"), ("PNK", "pink")]),
    ("BACKPACK-25", "Backpack 25 L", "accessories", "179.90", 800, (45, 30, 15), 25, 4,
     "fashion", []),
    ("BLOCKS-500", "Building blocks, 500 pieces", "toys", "149.90", 900, (38, 28, 8), 30, 4,
     "sp", []),
    ("PUZZLE-1000", "Jigsaw puzzle, 1000 pieces", "toys", "79.90", 700, (35, 25, 6), 20, 3, "sp",
     []),
    ("DOGFOOD-3KG", "Dog food 3 kg", "pets", "89.90", 3000, (40, 25, 10), 10, 5, "mg", []),
    ("SUNSCREEN-50", "Sunscreen SPF 50, 200 ml", "beauty", "59.90", 250, (18, 6, 5), 15, 6,
     "core", []),
    ("SHAMPOO-400", "Shampoo 400 ml", "beauty", "29.90", 450, (22, 7, 5), 10, 6, "core", []),
    ("PERFUME-100", "Eau de parfum 100 ml", "beauty", "289.90", 400, (14, 10, 8), 30, 3, "store",
     []),
    ("LAMP-LED", "LED desk lamp", "home", "129.90", 900, (45, 20, 15), 25, 3, "sp", []),
]
PROFILE_POINTS = {
    "core": ("SP-01", "MG-01"),
    "sp": ("SP-01",),
    "fashion": ("SP-01", "RJ-01", "PR-01"),
    "mg": ("MG-01",),
    "store": ("RJ-01", "PR-01"),
    "oos": (),
    "po": (),
}
SHIPPABLE = ("core", "sp", "fashion", "mg")
WAVE_PICKED = ("core", "sp", "fashion")  # shipped from SP-01, picked in our waves
PO_DAYS_AGO = 20  # the speakers' purchase order lands then and fills the backorders
DELIVERED_ORDERS = 62  # delivered over the last three months, returns included

# --------------------------------------------------------------------------- carriers

# carrier, carrier name, service, service name, base price, transit days by zone
SERVICES = [
    ("correios", "Correios", "pac", "PAC", Decimal("15.90"), (3, 5, 7, 10)),
    ("correios", "Correios", "sedex", "SEDEX", Decimal("22.90"), (1, 2, 3, 5)),
    ("jadlog", "Jadlog", "package", ".Package", Decimal("17.90"), (2, 4, 5, 8)),
]
# The carriers' public tracking pages (shown to staff and on the customer's page).
TRACKING_URLS = {
    "correios": "https://rastreamento.correios.com.br/app/index.php?objetos={tracking}",
}
ZONES = {"SP": 0, "RJ": 1, "MG": 1, "PR": 1, "SC": 2, "RS": 2, "ES": 2, "DF": 2, "GO": 2}
ZONE_FACTOR = (Decimal("1"), Decimal("1.3"), Decimal("1.6"), Decimal("2.1"))
BANDS = ((0, 1000, Decimal("1")), (1000, 5000, Decimal("1.4")), (5000, 30000, Decimal("2.4")))

# --------------------------------------------------------------------------- people

# city, region, postcode base, area code, weight
CITIES = [
    ("São Paulo", "SP", 1000, "11", 22), ("Campinas", "SP", 13010, "19", 5),
    ("Santos", "SP", 11010, "13", 3), ("Ribeirão Preto", "SP", 14010, "16", 3),
    ("Sorocaba", "SP", 18010, "15", 2), ("Rio de Janeiro", "RJ", 20000, "21", 12),
    ("Niterói", "RJ", 24020, "21", 3), ("Petrópolis", "RJ", 25600, "24", 1),
    ("Belo Horizonte", "MG", 30110, "31", 7), ("Uberlândia", "MG", 38400, "34", 2),
    ("Juiz de Fora", "MG", 36010, "32", 2), ("Curitiba", "PR", 80010, "41", 5),
    ("Londrina", "PR", 86010, "43", 2), ("Porto Alegre", "RS", 90010, "51", 4),
    ("Florianópolis", "SC", 88010, "48", 3), ("Joinville", "SC", 89201, "47", 2),
    ("Salvador", "BA", 40010, "71", 3), ("Recife", "PE", 50010, "81", 3),
    ("Fortaleza", "CE", 60010, "85", 2), ("Brasília", "DF", 70040, "61", 4),
    ("Goiânia", "GO", 74003, "62", 2), ("Vitória", "ES", 29010, "27", 2),
    ("Manaus", "AM", 69005, "92", 1), ("Belém", "PA", 66010, "91", 1),
]
FIRST_NAMES = [
    "Ana", "Beatriz", "Bruno", "Camila", "Carlos", "Daniela", "Diego", "Eduardo", "Fernanda",
    "Gabriel", "Gustavo", "Helena", "Isabela", "João", "Juliana", "Larissa", "Leonardo",
    "Lucas", "Luana", "Marcelo", "Mariana", "Mateus", "Natália", "Paulo", "Pedro", "Rafael",
    "Renata", "Rodrigo", "Sofia", "Thiago", "Vanessa", "Vinícius",
]
SURNAMES = [
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Soares",
    "Fernandes", "Vieira", "Barbosa", "Araújo", "Cardoso", "Nascimento", "Moreira",
]
STREETS = [
    "Rua das Flores", "Avenida Paulista", "Rua XV de Novembro", "Avenida Brasil",
    "Rua São Bento", "Rua da Consolação", "Avenida Atlântica", "Rua Augusta",
    "Avenida Afonso Pena", "Rua Sete de Setembro", "Avenida Beira-Mar", "Rua Bahia",
    "Rua Marechal Deodoro", "Avenida Getúlio Vargas", "Rua Tiradentes", "Rua Dom Pedro II",
]
LINE2 = ["", "", "", "Apto 12", "Apto 304, Bloco B", "Casa 2", "Fundos", "Sala 801"]
NOTES = ["", "", "", "", "", "", "Leave with the doorman", "Gift: no prices on the slip",
         "Deliver after 2 pm", "Call before delivering"]

HOLD_REASONS = [
    "Fraud review: billing and shipping addresses differ",
    "Address incomplete: missing house number",
    "Customer asked to change the delivery address",
    "Payment under review by the card issuer",
    "Customer asked to add an item before shipping",
]
CANCEL_PENDING = ["Boleto expired: payment not received", "Customer request",
                  "Duplicate order"]
CANCEL_CONFIRMED = ["Customer request: bought elsewhere", "Customer changed their mind",
                    "Delivery address outside the service area"]
CANCEL_HELD = ["Fraud confirmed by the card issuer", "Customer did not confirm the address"]
# After-sales scenarios for delivered orders: name, how many, last step played.
AFTER_SALES = [
    ("refunded", 8, "refund"), ("closed", 2, "close"), ("received", 3, "receive"),
    ("approved", 3, "approve"), ("requested", 4, "request"), ("rejected", 2, "reject"),
    ("goodwill", 3, "goodwill"),
]
REJECT_REASONS = ["Outside the 30-day return window", "Item shows signs of use"]
RETURN_REASONS = {
    "apparel": [("size_fit", "Too small, I need one size up"),
                ("size_fit", "Fits too loose")],
    "electronics": [("defective", "Stopped charging after two days"),
                    ("defective", "Left earbud has no sound")],
    "kitchen": [("damaged", "Arrived with a crack"), ("damaged", "Box crushed, item dented")],
    "appliances": [("damaged", "Arrived with a crack")],
    "other": [("no_longer_needed", "Bought it twice by mistake"),
              ("not_as_described", "Colour differs from the photo"),
              ("wrong_item", "Received a different model"),
              ("arrived_late", "Arrived after the birthday")],
}

# fmt: on
