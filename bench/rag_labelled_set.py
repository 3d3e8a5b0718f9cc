"""A small labelled retrieval set for bench/rag_recall.py: 30 short documents on distinct topics
and 60 paraphrased questions, two per document, each naming the document that answers it.

Every document carries the same knowledge-base boilerplate, as real ones carry headers and
footers: it dilutes what a chunk is about, which is what a chunk size trades against.
"""

from __future__ import annotations

BOILERPLATE_HEAD = (
    "Internal knowledge base. This page is maintained by the documentation team and reviewed every quarter. "
    "If anything here is out of date, open a ticket with the owning team and mention the page title."
)
BOILERPLATE_TAIL = (
    "Related pages are linked from the index. Printed copies are not controlled documents. "
    "For questions that this page does not answer, ask in the team channel during office hours, "
    "and remember that confidential material must never be pasted into public tools."
)

# (topic, body): the body holds the facts the questions ask about.
DOCUMENTS: list[tuple[str, str]] = [
    (
        "Password resets",
        "Employees reset a forgotten password from the sign-in page by choosing the recovery link. A code is "
        "sent to the phone number on file and expires after ten minutes. After five wrong attempts the "
        "account locks for half an hour. Administrators can force a reset for a user whose device was stolen.",
    ),
    (
        "Expense claims",
        "Travel expenses are claimed within thirty days of the trip through the finance portal. Receipts must"
        " be photographed and attached to each line. Meals are reimbursed up to forty euros a day. Claims "
        "above two thousand euros need the approval of a department head.",
    ),
    (
        "Office plants",
        "The ficus trees in the lobby are watered every Tuesday by the facilities team. Succulents on the "
        "desks need water only once a month. Plants that drop their leaves are usually getting too little "
        "light. Please do not move the large palms, which are rented from a nursery.",
    ),
    (
        "Parking garage",
        "The underground garage opens at six in the morning and closes at eleven at night. Electric cars may "
        "charge for at most four hours at the green bays. Visitors receive a paper ticket that reception "
        "stamps for free parking. Bicycles are stored in the locked cage beside the ramp.",
    ),
    (
        "Fire drills",
        "A fire drill takes place twice a year without warning. When the alarm sounds, leave by the nearest "
        "stairwell and never use the elevators. The assembly point is the car park across the street. Floor "
        "wardens wear yellow vests and count everyone before the all-clear.",
    ),
    (
        "Coffee machine",
        "The espresso machine on the third floor is descaled every Friday afternoon. If the display shows a "
        "red drop, the water tank is empty and must be refilled with filtered water. Beans are ordered from a"
        " local roaster each month. Milk for the frother is kept in the small fridge below.",
    ),
    (
        "Parental leave",
        "Parents are entitled to sixteen weeks of paid leave after a birth or adoption. The leave can be "
        "split into two blocks taken within the first year. Notify your manager at least eight weeks before "
        "the start date. Health insurance continues unchanged during the leave.",
    ),
    (
        "Laptop replacement",
        "Company laptops are replaced every four years or when repair costs exceed half the value. Before the"
        " swap, back up local files to the shared drive. The old device is wiped by the IT team and donated "
        "to a school. Lost laptops must be reported within a day so the disk can be locked remotely.",
    ),
    (
        "Quarterly planning",
        "Each team writes its objectives for the next quarter during the last two weeks of the current one. "
        "Objectives are reviewed in a meeting with the product director. Every objective needs at most three "
        "measurable key results. Unfinished objectives are either carried over or dropped explicitly.",
    ),
    (
        "Wine cellar inventory",
        "The restaurant's cellar holds about eight hundred bottles, counted by hand on the first Monday of "
        "each month. Red wines rest at fourteen degrees and whites at ten. Bottles are stored lying down so "
        "the corks stay moist. Any bottle opened for tasting is logged in the cellar book.",
    ),
    (
        "Beekeeping basics",
        "A healthy hive holds a single queen, thousands of workers and a few hundred drones in summer. "
        "Beekeepers inspect the frames every nine days during swarming season. Smoke calms the bees by "
        "masking their alarm scent. Honey is harvested once the cells are capped with wax.",
    ),
    (
        "Sourdough bread",
        "A sourdough starter is fed with equal weights of flour and water once a day. The dough rises slowly "
        "for about twelve hours in a cool kitchen. Bakers fold the dough every half hour during the first two"
        " hours to build strength. A very hot oven and steam give the loaf its crisp crust.",
    ),
    (
        "Marathon training",
        "Beginners train for a marathon over about eighteen weeks. The long run grows by roughly two "
        "kilometres each week and peaks three weeks before race day. Easy runs should feel conversational. "
        "The final weeks reduce the distance so the legs recover, which runners call the taper.",
    ),
    (
        "Solar panels",
        "Rooftop solar panels produce most electricity around midday in summer. Dust and bird droppings can "
        "reduce output by several percent, so panels are rinsed twice a year. An inverter converts the direct"
        " current into household alternating current. Batteries store the surplus for the evening.",
    ),
    (
        "Chess openings",
        "The Sicilian Defence answers the king's pawn opening with the c-pawn and leads to sharp, unbalanced "
        "games. The Queen's Gambit offers a pawn to gain control of the centre. Beginners are told to develop"
        " knights before bishops and to castle early. Moving the same piece twice in the opening usually "
        "wastes time.",
    ),
    (
        "Volcano eruptions",
        "Volcanoes erupt when molten rock and gas build pressure beneath the crust. Explosive eruptions throw"
        " ash high into the atmosphere and can ground flights for days. Lava from shield volcanoes flows "
        "slowly and rarely kills people. Scientists watch for small earthquakes and swelling ground before an"
        " eruption.",
    ),
    (
        "Tides",
        "Tides rise and fall twice a day because the moon's gravity pulls the oceans. Spring tides, with the "
        "largest range, happen at new and full moon. Neap tides occur when the sun and moon pull at right "
        "angles. Some bays, shaped like funnels, see differences of more than ten metres.",
    ),
    (
        "Photosynthesis",
        "Plants turn sunlight, water and carbon dioxide into sugar and release oxygen. The process takes "
        "place in chloroplasts, which contain the green pigment chlorophyll. Leaves open small pores called "
        "stomata to take in carbon dioxide. At night plants only respire and give off a little carbon "
        "dioxide.",
    ),
    (
        "Roman aqueducts",
        "Roman engineers built aqueducts to bring fresh water from distant springs into the cities. The "
        "channels fell very gently, often less than a metre per kilometre, so gravity alone moved the water. "
        "Arches carried the channel across valleys. Rome's eleven aqueducts supplied baths, fountains and "
        "private homes.",
    ),
    (
        "Vaccines",
        "A vaccine trains the immune system by showing it a harmless piece or weakened form of a germ. The "
        "body makes antibodies and memory cells that respond quickly to a later infection. Some vaccines need"
        " booster doses because protection fades. When most people are vaccinated, outbreaks struggle to "
        "spread.",
    ),
    (
        "Kubernetes scheduling",
        "The Kubernetes scheduler places each pod on a node with enough free CPU and memory for its requests."
        " Taints keep pods away from certain nodes unless the pod tolerates them. Affinity rules can ask for "
        "pods to run close to, or apart from, each other. A pod that fits nowhere stays pending.",
    ),
    (
        "Database indexes",
        "An index lets the database find rows without reading the whole table, much like the index at the "
        "back of a book. B-tree indexes serve equality and range lookups. Every index slows down inserts and "
        "updates a little, because it must be kept current. Unused indexes should be dropped.",
    ),
    (
        "Git branching",
        "Developers create a branch for each feature so unfinished work stays off the main line. A pull "
        "request asks teammates to review the changes before merging. Rebasing rewrites the branch on top of "
        "the latest main to keep history linear. Merge conflicts appear when two branches edit the same "
        "lines.",
    ),
    (
        "Invoice disputes",
        "Customers who disagree with an invoice have sixty days to open a dispute from the billing page. The "
        "finance team answers within five working days. While the dispute is open, late fees are paused. If "
        "the customer is right, a credit note is issued rather than editing the original invoice.",
    ),
    (
        "Data retention",
        "Customer records are kept for seven years after the contract ends to meet tax rules. Application "
        "logs are deleted after ninety days. Backups are encrypted and stored in a second region. A customer "
        "may ask for their personal data to be erased, which is done within a month.",
    ),
    (
        "Guitar tuning",
        "Standard tuning sets the six strings, from lowest to highest, to E, A, D, G, B and E. An electronic "
        "tuner listens to each string and shows whether it is sharp or flat. New strings stretch and go out "
        "of tune quickly for the first few days. Drop D tuning lowers only the bottom string by a whole step.",
    ),
    (
        "Composting",
        "A compost heap needs a mix of green material, such as vegetable scraps, and brown material, such as "
        "dry leaves. Turning the pile every week lets air in and speeds up decay. Meat and dairy attract rats"
        " and should stay out. Finished compost is dark, crumbly and smells like forest soil.",
    ),
    (
        "Airline baggage",
        "Economy passengers may check one bag of up to twenty-three kilograms. Cabin bags must fit in the "
        "sizer at the gate. Lithium batteries and power banks belong in hand luggage, never in checked bags. "
        "Delayed bags are usually delivered to the traveller's address within two days.",
    ),
    (
        "Lighthouses",
        "Lighthouses warn ships away from rocks and mark the entrance to harbours. Each one flashes its own "
        "pattern so sailors can tell them apart at night. Most lighthouses are now automated and no longer "
        "need a keeper. The Fresnel lens, made of many glass prisms, lets a small lamp shine for miles.",
    ),
    (
        "Sleep hygiene",
        "Adults need seven to nine hours of sleep a night. Going to bed and waking at the same times every "
        "day steadies the body clock. Screens emit blue light that delays sleepiness, so they are best put "
        "away an hour before bed. Caffeine late in the afternoon keeps many people awake.",
    ),
]

# (question, index of the document that answers it)
QUESTIONS: list[tuple[str, int]] = [
    ("How long is the recovery code valid when I forget my login?", 0),
    ("What happens after too many failed sign-in attempts?", 0),
    ("What is the daily limit for food on a business trip?", 1),
    ("Who has to sign off on a very large reimbursement?", 1),
    ("On which day are the big trees at the entrance given water?", 2),
    ("Why might a potted plant be losing its leaves?", 2),
    ("How long may I charge my EV in the company car park?", 3),
    ("Where can I leave my bike at work?", 3),
    ("Can I take the lift during an evacuation?", 4),
    ("Where do we gather after leaving the building in an alarm?", 4),
    ("What does a red water symbol on the espresso maker mean?", 5),
    ("How often is the coffee machine cleaned of limescale?", 5),
    ("How many weeks off do new parents get?", 6),
    ("How far in advance must I tell my boss before taking leave for a baby?", 6),
    ("When does the company give me a new notebook computer?", 7),
    ("What should I do if my work computer goes missing?", 7),
    ("How many key results can one goal have?", 8),
    ("When do teams draft their goals for the coming quarter?", 8),
    ("At what temperature are the red wines kept?", 9),
    ("Why are bottles stored on their side?", 9),
    ("How often should the frames of a hive be checked?", 10),
    ("Why do beekeepers use smoke?", 10),
    ("How do you keep a bread starter alive?", 11),
    ("What gives a loaf a crunchy outside?", 11),
    ("How many weeks does a first-time runner prepare for 42 km?", 12),
    ("What is the taper before a long race?", 12),
    ("Why do rooftop panels need cleaning?", 13),
    ("Which device turns DC into AC for the house?", 13),
    ("Which opening sacrifices a pawn for central control?", 14),
    ("What advice is given to novices at the start of a game?", 14),
    ("Why are planes sometimes grounded after an eruption?", 15),
    ("What warning signs come before a volcano erupts?", 15),
    ("What causes the sea level to go up and down each day?", 16),
    ("When is the difference between high and low water largest?", 16),
    ("Where in a leaf does the conversion of light into sugar happen?", 17),
    ("How do plants take in carbon dioxide?", 17),
    ("How did ancient Rome move water without pumps?", 18),
    ("How many water channels supplied ancient Rome?", 18),
    ("Why do some shots need a second dose later?", 19),
    ("How does immunisation prepare the body for infection?", 19),
    ("Why would a pod stay unscheduled?", 20),
    ("How can I keep workloads off particular machines in a cluster?", 20),
    ("Why do indexes make writes slower?", 21),
    ("Which kind of index handles range queries?", 21),
    ("What does rebasing do to my feature branch?", 22),
    ("When do merge conflicts happen?", 22),
    ("How long do I have to contest a bill?", 23),
    ("Are late fees charged while a bill is being contested?", 23),
    ("How long are application logs kept?", 24),
    ("Can a client have their personal information deleted?", 24),
    ("What notes are the six strings tuned to normally?", 25),
    ("Why do fresh guitar strings go out of tune?", 25),
    ("How often should I turn my compost pile?", 26),
    ("What should not go into a compost bin?", 26),
    ("Can I put a power bank in my checked suitcase?", 27),
    ("How heavy can my checked bag be in economy?", 27),
    ("How do sailors tell one lighthouse from another at night?", 28),
    ("What lets a small lamp in a lighthouse be seen far away?", 28),
    ("How many hours of rest does a grown-up need each night?", 29),
    ("Why should phones be put away before bedtime?", 29),
]


def documents(topics_per_document: int = 1) -> list[str]:
    """The documents' full texts, boilerplate included. With `topics_per_document` > 1, consecutive
    topics are bound into one longer document (a handbook): a chunk then mixes topics unless it is
    small, which is the harder test of a chunk size."""
    sections = [f"## {topic}\n\n{body}" for topic, body in DOCUMENTS]
    return [
        f"{BOILERPLATE_HEAD}\n\n"
        + "\n\n".join(sections[start : start + topics_per_document])
        + f"\n\n{BOILERPLATE_TAIL}"
        for start in range(0, len(sections), topics_per_document)
    ]


def answer_document(topic: int, topics_per_document: int = 1) -> int:
    """The document that holds a topic when topics are bound `topics_per_document` to a document."""
    return topic // topics_per_document
