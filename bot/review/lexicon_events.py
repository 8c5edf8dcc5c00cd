"""What happened, in English, Russian, Azerbaijani and Persian: the event lexicon's acts,
subjects, units, rounds and days.

An act is the kind of event (a call, a visit, an agreement …); two reports of one event name
the same act or two that go together (`COMPATIBLE`: a signing happens at a meeting). A subject
is what the event is about (gas, power, rail …): two headlines on different subjects are two
events. Forms are topics terms (`*` ends a stem), active and passive alike.
"""

from __future__ import annotations

ACTS: dict[str, tuple[str, ...]] = {
    "call": (
        "phone*", "telephone*", "call", "by phone", "телефон*", "по телефону", "telefon*",
        "تلفن*", "تماس تلفنی", "گفتگوی تلفنی",
    ),
    "meeting": (
        "meet", "meets", "met", "meeting", "talks", "discuss*", "hold talks", "held talks", "sat down",
        "receiv*", "consultation*", "host*", "welcom*", "sits down", "sit down",
        "holds discussions", "held discussions", "exchanged views", "exchange views",
        "trilateral*", "встрет*", "встреч*",
        "переговор*", "обсуди*", "принял*", "принимает", "консультац*", "трехсторонн*", "görüş*",
        "qəbul edib", "müzakirə*", "danışıq*", "məsləhətləşmə*", "üçtərəfli", "دیدار", "ملاقات", "رایزنی",
        "نشست*", "مذاکر*", "commission*", "межправкомисси*", "komissiya*", "کمیسیون*",
    ),
    "visit": (
        "visit*", "arriv*", "trip", "landed", "lands in", "визит*", "прибыл*", "прибыва*", "səfər*", "gəlib", "سفر*",
        "وارد",
    ),
    "agreement": (
        "sign*", "agreement*", "agree", "agreed", "deal", "memorandum*", "MoU", "protocol*",
        "contract*", "addendum", "ink", "inks", "inked", "seal*", "finalis*",
        "finaliz*", "put pen to paper", "puts pen to paper", "подписа*", "соглашени*", "меморандум*",
        "протокол*", "контракт*", "договорил*", "дополнени*", "imzala*", "saziş*",
        "memorandum*", "protokol*", "müqavilə*", "anlaşma*", "امضا*", "موافقت‌نامه*",
        "تفاهم‌نامه*", "قرارداد*", "پروتکل*", "الحاقیه", "تمدید*", "extend*", "продлил*",
    ),
    "opening": (
        "open*", "inaugurat*", "launch*", "resum*", "put into operation", "starts generating",
        "kick* off", "went into service", "goes into service", "enters service", "raised the flag",
        "راه‌اندازی*",
        "откры*", "заработал*", "запущен*", "запуст*", "введен* в эксплуатацию",
        "возобнов*", "açıl*", "açıb", "açılış*", "istifadəyə veril*", "istismara veril*",
        "fəaliyyətə başla*", "bərpa*", "به بهره‌برداری رسید", "افتتاح*", "گشایش*", "بهره‌برداری", "بازگشایی*",
        "برقرار*", "moves to new building",
    ),
    "statement": (
        "statement*", "speech", "hail*", "deni*", "отверг*", "rədd*", "تکذیب*", "выступ*",
        "çıxış*", "سخنرانی*", "warn*", "reject*", "dismiss*", "comment*", "remarks", "rejects",
        "заявил*", "заявлени*", "выступил* против", "опроверг*", "прокомментир*",
        "bəyanat*", "qarşı çıxıb", "اظهار*", "بیانیه", "رد کرد", "نمی‌دهیم", "حمایت می‌کنیم",
    ),
    "protest": (
        "summon*", "protest*", "slam*", "condemn*", "вызван*", "вызвал*", "вызвали", "протест*",
        "осудил*", "çağırıl*", "etiraz*", "pislə*", "احضار*", "اعتراض*", "محکوم*",
    ),
    "incident": (
        "fire", "blaze", "explosion", "crash", "accident", "detain*", "arrest*", "пожар*",
        "загорел*", "задерж*", "авари*", "yanğın*", "saxlanıl*", "saxlayıb*", "qəza*",
        "آتش‌سوزی", "بازداشت*", "حادثه", "توقیف*", "shot down", "downed", "killed", "injured",
        "clash*", "shooting", "сбит*", "сбил*", "уничтож*", "убит*", "ранен*", "перестрелк*",
        "vurul*", "məhv edil*", "öldürül*", "yaralan*", "atışma*", "سرنگون*", "کشته*", "زخمی*",
        "درگیری*",
    ),
    "figure": (
        "turnover", "hits", "reach*", "grow*", "grows", "up", "exports", "imports", "supplied",
        "delivered", "товарооборот*", "составил*", "вырос*", "поставлен*", "экспорт*",
        "dövriyyə*", "artıb", "ixrac*", "çatıb", "مبادلات", "رسید",
    ),
    "cancellation": (
        "cancel*", "lift*", "waiv*", "abolish*", "scrap*", "отмен*", "ləğv*", "لغو*",
    ),
    "verdict": (
        "jail*", "sentenc*", "convict*", "verdict", "приговор*", "осужден*", "осуждены",
        "həbs cəzası*", "məhkum edil*", "حکم دادگاه", "زندان*",
    ),
    "handover": (
        "hands over", "handed over", "hand over", "extradit*", "freed", "released", "передал*",
        "передан*", "экстрадир*", "освобожд*", "təhvil*", "azad edil*", "تحویل*", "استرداد*",
    ),
    "aid": (
        "aid", "relief", "humanitarian", "convoy", "dispatch*", "гуманитарн*", "помощ*",
        "yardım*", "کمک*", "ارسال",
    ),
    "message": (
        "condolence*", "letter", "message", "congratulat*", "соболезнован*", "поздрав*",
        "письм*", "послани*", "başsağlığı", "təbrik*", "məktub*", "تسلیت", "تبریک", "پیام*",
    ),
    "exercise": ("drill*", "exercise*", "учени*", "təlim*", "رزمایش*"),
    "payment": ("tranche", "loan", "pays", "paid", "транш*", "кредит*", "kredit*", "ödənil*", "köçür*", "وام", "واریز*", "پرداخت*"),
}  # fmt: skip

# Acts that speak of another act: a headline that has one is about the speaking ("Iran denies
# link to drone downed …" is a statement, not the downing; "summons envoy over border incident").
SPEECH = frozenset(("statement", "protest"))

# Acts that one event can carry together: a visit has meetings, signings and openings.
COMPATIBLE: frozenset[frozenset[str]] = frozenset(
    frozenset(pair)
    for pair in (
        ("meeting", "visit"),
        ("meeting", "agreement"),
        ("visit", "agreement"),
        ("statement", "protest"),
        ("figure", "payment"),
        ("call", "message"),  # condolences or congratulations by phone
    )
)

SUBJECTS: dict[str, tuple[str, ...]] = {
    "gas": ("gas", "газ*", "qaz*", "گاز"),
    "power": (
        "electric*", "power grid*", "power plant", "hydropower", "hydroelectric", "kWh",
        "электроэнерг*", "ГЭС", "электростанц*", "elektrik*", "SES", "برق", "برق‌آبی", "نیروگاه*",
    ),
    "rail": ("rail*", "железн*", "dəmir yol*", "راه‌آهن"),
    "bridge": ("bridge*", "мост*", "körpü*", "پل"),
    "trucks": ("truck*", "lorr*", "грузовик*", "фур*", "TIR", "yük maşın*", "کامیون*"),
    "customs": ("customs", "таможн*", "gömrük*", "گمرک*"),
    "trade": ("trade", "торгов*", "товарооборот*", "ticarət*", "تجارت*"),
    "transit": ("transit*", "транзит*", "tranzit*", "ترانزیت*"),
    "consular": (
        "consular", "consulate*", "visa*", "консульск*", "консульств*", "генконсульств*", "виз*",
        "konsulluq*", "viza*", "کنسولی", "کنسولگری", "سرکنسولگری", "روادید",
    ),
    "flights": ("flight*", "рейс*", "полет*", "reys*", "uçuş*", "پرواز*"),
    "military": ("army", "troops", "military", "войск*", "военн*", "ordu*", "hərbi", "ارتش", "نظامی"),
    "drugs": ("drug*", "наркот*", "нарко*", "narkotik*", "مواد مخدر"),
    "fishing": ("fisherm*", "рыбак*", "balıqçı*", "ماهیگیر*"),
    "parliament": ("parliament*", "inter-parliamentary", "межпарламентск*", "parlament*", "پارلمان*"),
    "health": ("health*", "medicine*", "здравоохран*", "минздрав*", "лекарств*", "səhiyyə*", "dərman*", "بهداشت*", "درمان*", "دارو*"),
    "education": ("education*", "student*", "universit*", "образован*", "студент*", "университет*", "təhsil*", "tələbə*", "آموزش*", "دانشجو*", "دانشگاه*"),
    "shipping": ("ferry", "ferries", "port", "ports", "shipping", "паром*", "порт*", "bərə*", "liman*", "کشتی*", "بندر*"),
    "quake": ("earthquake*", "quake*", "землетрясен*", "zəlzələ*", "زلزله*"),
    "espionage": ("spy*", "spying", "espionage", "шпион*", "casus*", "جاسوس*"),
    "tourism": ("touris*", "турист*", "turist*", "گردشگر*"),
    "drones": ("drone*", "UAV*", "беспилотник*", "дрон*", "PUA", "pilotsuz*", "dron*", "پهپاد*"),
    "media": ("TV", "programme", "media", "телевиден*", "передач*", "СМИ", "televiziya*", "verliş*", "رسانه*", "تلویزیون"),
}  # fmt: skip

# Units of a quantity, the number's next word (or "$" before it); multipliers scale it.
UNITS: dict[str, tuple[str, ...]] = {
    "money": ("dollar*", "долл*", "dollar*", "دلار", "manat*", "манат*", "euro*", "евро", "avro", "یورو", "rial*", "риал*", "ریال"),
    "percent": ("percent", "per cent", "процент*", "faiz", "درصد"),
    "tonnes": ("tonne*", "tons", "ton", "тонн*", "تن"),
    "km": ("km", "kilomet*", "км", "километр*", "kilometr*", "کیلومتر*"),
    "m3": ("cubic met*", "кубометр*", "куб* метр*", "kubmetr*", "متر مکعب"),
    "metres": ("metre*", "meter*", "метр*", "metr*", "متر"),
    "mw": ("MW", "megawatt*", "МВт", "мегават*", "meqavat*", "مگاوات*"),
    "kwh": ("kWh", "kilowatt-hour*", "кВт", "киловатт*", "kilovat*", "کیلووات*"),
    "kg": ("kilogram*", "kg", "кг", "kiloqram*", "کیلوگرم*"),
    "flights-week": ("flights a week", "a week", "раза в неделю", "в неделю", "reys*", "بار"),
    "years": ("years", "лет", "год*", "il", "سال"),
    "documents": ("documents", "документ*", "sənəd*", "سند"),
    "people": ("people", "человек", "nəfər*", "نفر", "tourists", "туристов", "turist*", "گردشگر*"),
    "vehicles": (
        "trucks", "lorries", "wagons", "грузовик*", "фур", "вагон*", "yük maşın*", "TIR",
        "vaqon*", "کامیون*", "واگن*",
    ),
}  # fmt: skip
MULTIPLIERS: dict[str, tuple[str, ...]] = {
    "1000": ("thousand", "тыс*", "min", "هزار"),
    "1000000": ("million*", "млн", "миллион*", "milyon*", "میلیون", "m"),
    "1000000000": ("billion*", "bn", "млрд", "миллиард*", "milyard*", "میلیارد"),
}  # fmt: skip

ROUND_WORDS = ("round*", "раунд*", "тур", "raund*", "dövrə*", "دور")
ORDINALS: dict[int, tuple[str, ...]] = {
    1: ("first", "1st", "перв*", "birinci", "اول", "نخست"),
    2: ("second", "2nd", "втор*", "ikinci", "دوم"),
    3: ("third", "3rd", "трет*", "üçüncü", "سوم"),
    4: ("fourth", "4th", "четверт*", "dördüncü", "چهارم"),
    5: ("fifth", "5th", "пят*", "beşinci", "پنجم"),
}  # fmt: skip

WEEKDAYS: dict[int, tuple[str, ...]] = {
    0: ("Monday", "понедельник*", "bazar ertəsi", "دوشنبه"),
    1: ("Tuesday", "вторник*", "çərşənbə axşamı", "سه‌شنبه"),
    2: ("Wednesday", "среду", "среда", "çərşənbə", "چهارشنبه"),
    3: ("Thursday", "четверг*", "cümə axşamı", "پنجشنبه"),
    4: ("Friday", "пятниц*", "cümə", "جمعه"),
    5: ("Saturday", "суббот*", "şənbə", "شنبه"),
    6: ("Sunday", "воскресень*", "bazar günü", "یکشنبه"),
}  # fmt: skip
RELATIVE_DAYS: dict[int, tuple[str, ...]] = {
    0: ("today", "сегодня", "bu gün", "bugün", "امروز"),
    -1: ("yesterday", "вчера", "dünən", "دیروز"),
    1: ("tomorrow", "завтра", "sabah", "فردا"),
}  # fmt: skip
MONTHS: dict[int, tuple[str, ...]] = {
    1: ("January", "январ*", "yanvar*"), 2: ("February", "феврал*", "fevral*"),
    3: ("March", "март*", "mart*"), 4: ("April", "апрел*", "aprel*"),
    5: ("May", "мая", "may*"), 6: ("June", "июн*", "iyun*"), 7: ("July", "июл*", "iyul*"),
    8: ("August", "август*", "avqust*"), 9: ("September", "сентябр*", "sentyabr*"),
    10: ("October", "октябр*", "oktyabr*"), 11: ("November", "ноябр*", "noyabr*"),
    12: ("December", "декабр*", "dekabr*"),
}  # fmt: skip
