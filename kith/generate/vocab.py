"""Fixed vocabularies of the sample data: names, places, brands, devices.

Everything here is fictional or generic; the retailer is "Fenmore", a UK fashion chain.
"""

from __future__ import annotations

SITE = "https://www.fenmore.example"

# (first name, nicknames) by gender; accented names exercise case and accent folding.
FEMALE_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Katherine", ("Kate", "Katie")), ("Elizabeth", ("Liz", "Beth")), ("Rebecca", ("Becky",)),
    ("Jennifer", ("Jen", "Jenny")), ("Victoria", ("Vicky",)), ("Alexandra", ("Alex",)),
    ("Samantha", ("Sam",)), ("Charlotte", ("Lottie",)), ("Margaret", ("Maggie",)),
    ("Olivia", ("Liv",)), ("Abigail", ("Abby",)), ("Jessica", ("Jess",)), ("Eleanor", ("Ellie",)),
    ("Amelia", ("Millie",)), ("Emily", ()), ("Sophie", ()), ("Grace", ()), ("Chloé", ()), ("Zoë", ()),
    ("Aoife", ()), ("Siobhán", ()), ("Niamh", ()), ("Priya", ()), ("Aisha", ()), ("Fatima", ()),
    ("Mei", ()), ("Yasmin", ()), ("Renée", ()), ("Noémie", ()), ("Ella", ()), ("Freya", ()),
    ("Isla", ()), ("Hannah", ()), ("Lucy", ()), ("Megan", ()), ("Holly", ()), ("Amira", ()),
    ("Ana", ()), ("Ingrid", ()), ("Laura", ()), ("Sarah", ()), ("Rachel", ()), ("Emma", ()),
    ("Georgia", ()), ("Phoebe", ()), ("Harriet", ("Hattie",)), ("Susan", ("Sue",)),
)
MALE_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Robert", ("Bob", "Rob")), ("William", ("Will", "Bill")), ("James", ("Jim", "Jamie")),
    ("Thomas", ("Tom",)), ("Michael", ("Mike",)), ("Christopher", ("Chris",)), ("Daniel", ("Dan",)),
    ("Matthew", ("Matt",)), ("Benjamin", ("Ben",)), ("Nicholas", ("Nick",)), ("Jonathan", ("Jon",)),
    ("Edward", ("Ed", "Ted")), ("Richard", ("Rich",)), ("Joseph", ("Joe",)), ("Anthony", ("Tony",)),
    ("Alexander", ("Alex",)), ("Samuel", ("Sam",)), ("Andrew", ("Andy",)), ("Stephen", ("Steve",)),
    ("David", ("Dave",)), ("Oliver", ("Ollie",)), ("Harry", ()), ("Jack", ()), ("George", ()),
    ("Noah", ()), ("Mohammed", ()), ("Arjun", ()), ("Seán", ()), ("José", ()), ("Björn", ()),
    ("Luca", ()), ("Callum", ()), ("Connor", ()), ("Rhys", ()), ("Owen", ()), ("Kwame", ()),
    ("Tariq", ()), ("Wei", ()), ("Peter", ("Pete",)), ("Timothy", ("Tim",)),
)
SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
    "Clarke", "Patel", "Khan", "Singh", "Ahmed", "Ali", "Hussain", "Shah", "Begum", "Chen", "Wang",
    "Nguyen", "Kowalski", "Nowak", "Müller", "Schmidt", "O'Brien", "O'Connor", "O'Neill",
    "McDonald", "MacLeod", "Campbell", "Stewart", "Murray", "Fraser", "Smith-Jones", "Ashworth-Lee",
    "Okafor", "Adeyemi", "Mensah", "Osei", "García", "Núñez", "Fernández", "Rossi", "Russo",
    "Dubois", "Lefèvre", "D'Souza", "Da Silva", "Van der Berg", "Hughes", "Edwards", "Lewis",
    "Morgan", "Griffiths", "Price", "Bennett", "Cooper", "Harris", "Martin", "Moore", "Kelly",
    "Murphy", "Byrne", "Walsh", "Lynch", "Doyle", "Quinn", "Reid", "Kaur", "Mistry", "Chowdhury",
    "Rahman", "Iqbal", "Novak", "Jansen", "Petrov", "Baker", "Turner", "Hill", "Ward", "Carter",
)
STREETS: tuple[str, ...] = (
    "High", "Station", "Church", "Victoria", "Park", "Mill", "Queen", "King", "Albert", "Manor",
    "Grange", "Orchard", "Chapel", "Springfield", "Windsor", "Highfield", "Kingsway", "Meadow",
    "Elm", "Oak", "Beech", "Willow", "Cedar", "Ash", "Holly", "Rose", "Hawthorn", "York", "Clarence",
    "Stanley", "Cromwell", "Nelson", "Gladstone", "Newton", "Belmont", "Heath", "Fairfield",
)
STREET_TYPES: tuple[str, ...] = ("Road", "Street", "Avenue", "Lane", "Close", "Drive", "Gardens", "Way")

# Stores: (store_name, city, postcode, latitude, longitude, weight, postcode areas of shoppers)
STORES: tuple[tuple[str, str, str, float, float, float, tuple[str, ...]], ...] = (
    ("London Oxford Street", "London", "W1C 1DX", 51.5149, -0.1445, 3.0, ("W", "NW", "WC", "SW")),
    ("Manchester Market Street", "Manchester", "M1 1WR", 53.4830, -2.2400, 2.0, ("M",)),
    ("Birmingham Bullring", "Birmingham", "B5 4BU", 52.4777, -1.8937, 2.0, ("B",)),
    ("Glasgow Buchanan Street", "Glasgow", "G1 2FF", 55.8620, -4.2530, 1.6, ("G",)),
    ("Leeds Briggate", "Leeds", "LS1 6HD", 53.7975, -1.5420, 1.5, ("LS",)),
    ("Edinburgh Princes Street", "Edinburgh", "EH2 2AN", 55.9520, -3.1960, 1.4, ("EH",)),
    ("Bristol Cabot Circus", "Bristol", "BS1 3BX", 51.4585, -2.5845, 1.4, ("BS",)),
    ("Liverpool Church Street", "Liverpool", "L1 1DA", 53.4045, -2.9870, 1.4, ("L",)),
    ("Newcastle Northumberland Street", "Newcastle upon Tyne", "NE1 7JB", 54.9745, -1.6140, 1.2, ("NE",)),
    ("Sheffield Fargate", "Sheffield", "S1 2HE", 53.3810, -1.4700, 1.1, ("S",)),
    ("Nottingham Victoria Centre", "Nottingham", "NG1 3QN", 52.9570, -1.1480, 1.1, ("NG",)),
    ("Cardiff Queen Street", "Cardiff", "CF10 2BU", 51.4820, -3.1750, 1.1, ("CF",)),
    ("Belfast Donegall Place", "Belfast", "BT1 5AA", 54.5985, -5.9300, 1.0, ("BT",)),
    ("Leicester Highcross", "Leicester", "LE1 4AN", 52.6365, -1.1390, 0.9, ("LE",)),
    ("Brighton Churchill Square", "Brighton", "BN1 2RG", 50.8235, -0.1450, 0.9, ("BN",)),
    ("Southampton Above Bar", "Southampton", "SO15 1QE", 50.9040, -1.4060, 0.9, ("SO",)),
    ("London Stratford", "London", "E20 1EJ", 51.5430, -0.0060, 2.0, ("E", "N", "IG")),
    ("London Covent Garden", "London", "WC2E 8RF", 51.5120, -0.1230, 1.5, ("WC", "N", "EC", "SE")),
    ("Oxford Westgate", "Oxford", "OX1 1TR", 51.7500, -1.2600, 0.8, ("OX",)),
    ("Cambridge Grand Arcade", "Cambridge", "CB2 3BJ", 52.2040, 0.1200, 0.8, ("CB",)),
    ("York Coney Street", "York", "YO1 9QL", 53.9590, -1.0830, 0.7, ("YO",)),
    ("Bath SouthGate", "Bath", "BA1 1AP", 51.3790, -2.3590, 0.7, ("BA",)),
    ("Reading Broad Street", "Reading", "RG1 2AG", 51.4540, -0.9710, 0.8, ("RG",)),
    ("Milton Keynes Midsummer", "Milton Keynes", "MK9 3ES", 52.0430, -0.7590, 0.8, ("MK",)),
    ("Norwich Chapelfield", "Norwich", "NR2 1SH", 52.6260, 1.2920, 0.7, ("NR",)),
    ("Exeter Princesshay", "Exeter", "EX1 1GE", 50.7240, -3.5290, 0.7, ("EX",)),
    ("Aberdeen Union Street", "Aberdeen", "AB11 5RG", 57.1440, -2.0960, 0.7, ("AB",)),
    ("Plymouth Drake Circus", "Plymouth", "PL4 8FF", 50.3750, -4.1390, 0.6, ("PL",)),
    ("Coventry West Orchards", "Coventry", "CV1 1QX", 52.4080, -1.5100, 0.6, ("CV",)),
    ("Derby St Peters Street", "Derby", "DE1 2PL", 52.9190, -1.4710, 0.6, ("DE",)),
    ("Hull Whitefriargate", "Kingston upon Hull", "HU2 8LN", 53.7440, -0.3460, 0.6, ("HU",)),
    ("Swansea Oxford Street", "Swansea", "SA1 3QW", 51.6180, -3.9430, 0.5, ("SA",)),
    ("Chester Eastgate Street", "Chester", "CH1 1LE", 53.1900, -2.8890, 0.5, ("CH",)),
    ("Canterbury Whitefriars", "Canterbury", "CT1 2TF", 51.2770, 1.0800, 0.5, ("CT",)),
    ("Cheltenham Promenade", "Cheltenham", "GL50 1LR", 51.8990, -2.0780, 0.5, ("GL",)),
    ("Harrogate James Street", "Harrogate", "HG1 1RF", 53.9930, -1.5400, 0.4, ("HG",)),
    ("Guildford High Street", "Guildford", "GU1 3AJ", 51.2360, -0.5720, 0.6, ("GU",)),
    ("Kingston Clarence Street", "Kingston upon Thames", "KT1 1TP", 51.4110, -0.3050, 0.8, ("KT", "SW")),
    ("London Canary Wharf", "London", "E14 5AB", 51.5050, -0.0190, 1.0, ("E", "SE")),
    ("Croydon North End", "Croydon", "CR0 1LP", 51.3760, -0.0990, 0.7, ("CR", "SE")),
    ("Watford High Street", "Watford", "WD17 2TB", 51.6570, -0.3960, 0.6, ("WD", "HA")),
    ("Manchester Trafford", "Manchester", "M17 8AA", 53.4670, -2.3480, 1.2, ("M", "WA")),
    ("Glasgow Silverburn", "Glasgow", "G53 6AG", 55.8210, -4.3400, 0.7, ("G", "PA")),
    ("Solihull Touchwood", "Solihull", "B91 3GJ", 52.4120, -1.7780, 0.7, ("B",)),
    ("Leeds White Rose", "Leeds", "LS11 8LU", 53.7590, -1.5770, 0.6, ("LS", "WF")),
    ("Bournemouth Old Christchurch Road", "Bournemouth", "BH1 1EX", 50.7210, -1.8750, 0.5, ("BH",)),
    ("Portsmouth Gunwharf Quays", "Portsmouth", "PO1 3TZ", 50.7960, -1.1070, 0.5, ("PO",)),
    ("Stoke Hanley", "Stoke-on-Trent", "ST1 1PS", 53.0240, -2.1770, 0.4, ("ST",)),
    ("Wolverhampton Dudley Street", "Wolverhampton", "WV1 3NH", 52.5850, -2.1280, 0.4, ("WV",)),
    ("Dundee Overgate", "Dundee", "DD1 1UQ", 56.4590, -2.9720, 0.4, ("DD",)),
    ("Inverness Eastgate", "Inverness", "IV1 1NT", 57.4790, -4.2240, 0.3, ("IV",)),
    ("Preston Fishergate", "Preston", "PR1 2NJ", 53.7580, -2.7010, 0.4, ("PR",)),
    ("Bolton Market Place", "Bolton", "BL1 2AL", 53.5790, -2.4300, 0.4, ("BL",)),
    ("Sunderland The Bridges", "Sunderland", "SR1 3LE", 54.9060, -1.3830, 0.4, ("SR",)),
    ("Middlesbrough Linthorpe Road", "Middlesbrough", "TS1 2AU", 54.5760, -1.2340, 0.4, ("TS",)),
    ("Peterborough Queensgate", "Peterborough", "PE1 1NT", 52.5740, -0.2440, 0.4, ("PE",)),
    ("Luton George Street", "Luton", "LU1 2TA", 51.8790, -0.4170, 0.4, ("LU",)),
    ("Chelmsford High Chelmer", "Chelmsford", "CM1 1GH", 51.7320, 0.4720, 0.5, ("CM",)),
    ("Tunbridge Wells Calverley Road", "Royal Tunbridge Wells", "TN1 2SS", 51.1340, 0.2640, 0.4, ("TN",)),
    ("London King's Road", "London", "SW3 4UD", 51.4870, -0.1680, 1.0, ("SW", "W")),
)

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 34), ("hotmail.co.uk", 12), ("outlook.com", 9), ("yahoo.co.uk", 7),
    ("icloud.com", 10), ("btinternet.com", 5), ("sky.com", 3), ("live.co.uk", 4),
    ("googlemail.com", 2), ("aol.com", 1), ("protonmail.com", 2), ("virginmedia.com", 3),
    ("me.com", 2), ("hotmail.com", 4), ("yahoo.com", 2),
)
DOMAIN_TYPOS: dict[str, tuple[str, ...]] = {
    "gmail.com": ("gmial.com", "gmail.co", "gmal.com", "gamil.com"),
    "hotmail.co.uk": ("hotmial.co.uk", "hotmail.co", "hotmai.co.uk"),
    "outlook.com": ("outlok.com", "outlook.co"),
    "yahoo.co.uk": ("yahoo.co", "yaho.co.uk"),
    "icloud.com": ("iclod.com", "icould.com"),
    "btinternet.com": ("btinternt.com", "btinterent.com"),
    "hotmail.com": ("hotmial.com", "hotmail.con"),
}
WORK_DOMAINS: tuple[str, ...] = (
    "brightlane.co.uk", "harrowfield-law.co.uk", "northgate-logistics.co.uk", "quayside.ac.uk",
    "ember-health.org.uk", "tidewell.com", "copperbeam.io", "stonebridge-council.gov.uk",
)
JUNK_EMAILS: tuple[str, ...] = ("test@test.com", "noemail@none.com", "n/a", "none", "-", "")
JUNK_PHONES: tuple[str, ...] = ("0000000000", "07000000000", "n/a", "none", "-", "")

MOBILE_UA: tuple[str, ...] = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
)
DESKTOP_UA: tuple[str, ...] = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
)
TABLET_UA: tuple[str, ...] = (
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
)
BOT_UA: tuple[str, ...] = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
)
ISP_OCTETS: tuple[int, ...] = (2, 5, 31, 62, 77, 78, 79, 80, 81, 82, 86, 90, 92, 94, 109, 151, 176, 178, 212)
MOBILE_OCTETS: tuple[int, ...] = (37, 82, 92, 148, 172, 185)

# App releases: (days after the period start, version); the app store rolls out new versions.
APP_RELEASES: tuple[tuple[int, str], ...] = (
    (-200, "5.2.0"), (-90, "5.3.1"), (-10, "5.4.0"), (40, "5.4.2"), (95, "5.5.0"), (150, "5.6.0"),
    (210, "5.6.3"), (270, "5.7.0"), (330, "5.8.0"),
)

UTM_SOURCES: tuple[tuple[str, str, float], ...] = (
    ("google", "cpc", 0.35), ("facebook", "paid_social", 0.15), ("instagram", "paid_social", 0.15),
    ("newsletter", "email", 0.2), ("awin", "affiliate", 0.1), ("tiktok", "paid_social", 0.05),
)
REFERRERS: tuple[str | None, ...] = (
    None, None, "https://www.google.com/", "https://www.google.co.uk/", "https://www.bing.com/",
    "https://www.instagram.com/", "https://l.facebook.com/", "https://www.pinterest.co.uk/",
)
QR_CAMPAIGNS: tuple[str, ...] = ("shelf_tag", "window_display", "fitting_room", "till_point", "new_in_wall")

TICKET_SUBJECTS: dict[str, tuple[str, ...]] = {
    "delivery": ("Where is my order {ref}?", "Order {ref} not arrived", "Parcel missing", "Late delivery"),
    "returns": ("Return for order {ref}", "Refund not received", "How do I return an item?",
                "Exchange request"),
    "product": ("Size guide question", "Is this coming back in stock?", "Fabric care question",
                "Faulty zip"),
    "billing": ("Charged twice", "Gift card balance", "Discount code not working", "Invoice request"),
    "account": ("Can't log in", "Change my email address", "Delete my account", "Unsubscribe me"),
}
