"""The rule lexicon: brand names, channel words and their common foreign equivalents.

Each entry is ``(rule name, channel, strength, pattern)``. Patterns are regular
expressions matched with word boundaries on the *normalized* answer (lower case, accents
stripped, apostrophes dropped, any other punctuation turned into a space; see
``rules.normalize``), so ``"G2.com"`` reads ``"g2 com"`` and ``"r/sysadmin"`` reads
``"r sysadmin"``.

Strength:
- ``strong``: names a channel by itself (a brand, "podcast", "conference", "a friend").
- ``weak``: a hint ("searched", "reviews", "a post", "recommended") that only counts when
  no strong cue is present in the answer.

Misspellings are not listed one by one: ``rules.correct_tokens`` first maps unknown
tokens to the nearest entry of ``FUZZY_TARGETS`` (Damerau-Levenshtein).
"""

from __future__ import annotations

STRONG = "strong"
WEAK = "weak"

RULES: list[tuple[str, str, str, str]] = [
    # ------------------------------------------------------------ compounds first: a match
    # consumes its words, so "peer insights" is never read as "peer", nor "google ads" as
    # "google"
    ("review:peer_insights", "review_site", STRONG, r"(gartner )?peer insights"),
    (
        "community:platform_group",
        "community",
        STRONG,
        r"(facebook|linkedin|fb|whatsapp|telegram|wechat|slack|online|user|peer|founders?|"
        r"mastermind|private|reddit) (groups?|chat|channels?)",
    ),
    (
        "paid:platform_ad",
        "paid_ads",
        STRONG,
        r"(google|facebook|fb|meta|linkedin|instagram|insta|youtube|yt|twitter|x|reddit|tiktok|"
        r"bing|spotify|tv|radio|display|search|social|banner|paid) (ads?|adverts?|advertising|"
        r"advertisements?|commercials?|campaigns?)|(sponsored|promoted) (\w+ )?(posts?|tweets?|"
        r"videos?|content|results?|listings?|links?|messages?|inmail)",
    ),
    (
        "podcast:sponsor",
        "podcast",
        STRONG,
        r"podcast (ads?|adverts?|sponsor\w*|commercials?)|(ads?|adverts?|sponsor\w*) (on|in|during) "
        r"(a|an|the|my|some|one)? ?(\w+ )?(podcasts?|pod|episode)",
    ),
    (
        "ai:google_ai",
        "ai_assistant",
        STRONG,
        r"google (gemini|bard|ai|ai overviews?)|ai overviews?|ai mode",
    ),
    (
        "podcast:named_compound",
        "podcast",
        STRONG,
        r"saastr (podcast|pod|episode)|(podcast|pod|episode) (from|by|of) saastr",
    ),
    (
        "content:named_newsletter",
        "content",
        STRONG,
        r"(lenny|lennys|stratechery|morning brew|tldr|the hustle|axios) (newsletter|email|digest)",
    ),
    (
        "event:suffix",
        "event",
        STRONG,
        r"[a-z]+(conf|summit|fest|expo|camp|week)|[a-z]+con ?(20)?\d\d",
    ),
    ("event:named_compound", "event", STRONG, r"techcrunch disrupt|hubspot inbound|aws re ?invent"),
    ("community:hacker_news", "community", STRONG, r"hacker ?news"),
    ("peer:business_partner", "peer_referral", STRONG, r"business partner"),
    ("content:email_newsletter", "content", STRONG, r"(email|e mail) (newsletter|digest|course)"),
    # ------------------------------------------------------------ peer referral
    ("peer:friend", "peer_referral", STRONG, r"(friends?|buddy|buddies|pals?|mates?|bff)"),
    (
        "peer:colleague",
        "peer_referral",
        STRONG,
        r"(colleagues?|co ?workers?|workmates?|teammates?|coll[eè]gues?|colegas?|"
        r"kolleg(e|en|in|innen)|collega|companeros?|peers?)",
    ),
    ("peer:word_of_mouth", "peer_referral", STRONG, r"word (of|o) mouth|wom"),
    (
        "peer:referral",
        "peer_referral",
        STRONG,
        r"(referred|referral|referrals|referal|refered|introduced us|intro(duction)? from)",
    ),
    (
        "peer:role",
        "peer_referral",
        STRONG,
        r"(my|our) (old |former |previous |ex |new )?(boss|manager|cto|ceo|cfo|coo|cmo|cro|vp|"
        r"founder|team lead|director|head of \w+|lead|supervisor|chief \w+)",
    ),
    (
        "peer:person",
        "peer_referral",
        STRONG,
        r"(my|our|a|an) (husband|wife|brother|sister|cousin|dad|mom|father|mother|uncle|aunt|"
        r"neighbou?r|roommate|classmate|investors?|vc|advisors?|mentor|contact|acquaintance|"
        r"board member|angel)",
    ),
    ("peer:cofounder", "peer_referral", STRONG, r"co ?founder|cofounders"),
    ("peer:ex_colleague", "peer_referral", STRONG, r"ex ?colleagues?|ex ?coworkers?"),
    (
        "peer:your_customer",
        "peer_referral",
        STRONG,
        r"(one of your|another|a) (customers?|clients?|users?)|your customers?|existing customers?",
    ),
    ("peer:network", "peer_referral", STRONG, r"(my|our) (personal |professional )?network"),
    (
        "peer:told",
        "peer_referral",
        STRONG,
        r"(told (me|us)|vouched|swears? by|raved|tip from|someone i (know|trust)|grapevine|"
        r"people i (know|trust)|fellow \w+)",
    ),
    (
        "peer:foreign",
        "peer_referral",
        STRONG,
        r"(amig[oa]s?|amis?|amies?|freund(e|in|en)?|amic[oa]|amici|vriend(en)?|"
        r"bouche a oreille|boca a boca|mundpropaganda|passaparola|passa parola)",
    ),
    (
        "peer:foreign_recommend",
        "peer_referral",
        WEAK,
        r"(recomendacion|recomendo|recommandation|recommande|empfehlung|empfohlen|"
        r"consigliato|raccomandazione|indicacao|indicou|aanbeveling)",
    ),
    (
        "peer:recommended",
        "peer_referral",
        WEAK,
        r"(recomm?end\w*|suggest\w*|heard (about|of) (you|it))",
    ),
    ("peer:someone", "peer_referral", WEAK, r"(someone|somebody|a guy|people|everyone uses)"),
    # ------------------------------------------------------------ community
    ("community:slack", "community", STRONG, r"slack"),
    ("community:discord", "community", STRONG, r"discord"),
    (
        "community:reddit",
        "community",
        STRONG,
        r"(reddit|subreddit|r \w+ (thread|sub|subreddit|post))",
    ),
    (
        "community:subreddit_handle",
        "community",
        STRONG,
        r"r (saas|sysadmin|startups|marketing|devops|dataengineering|analytics|sales|entrepreneur|smallbusiness|msp|revops|b2bmarketing|productmanagement|selfhosted|programming|webdev)",
    ),
    ("community:forum", "community", STRONG, r"(forums?|foro|discourse|message board)"),
    (
        "community:community",
        "community",
        STRONG,
        r"(community|communities|comunidad|comunidade|communaute|gemeinschaft|comunita)",
    ),
    ("community:hn", "community", STRONG, r"(hn|ycombinator|y combinator)"),
    (
        "community:stack",
        "community",
        STRONG,
        r"(stack ?overflow|stack ?exchange|quora|indie ?hackers|product ?hunt|github|lobsters|spiceworks)",
    ),
    (
        "community:named",
        "community",
        STRONG,
        r"(pavilion|revgenius|locally optimistic|mind the product|growthhackers|demand curve|superpath)",
    ),
    (
        "community:group_weak",
        "community",
        WEAK,
        r"(groups?|grupo|groupe|gruppe|thread|channel|chat)",
    ),
    # ------------------------------------------------------------ podcast
    (
        "podcast:podcast",
        "podcast",
        STRONG,
        r"(podcasts?|pod|podcaster|episodes?|episodio|folge|podcast ad)",
    ),
    (
        "podcast:spotify",
        "podcast",
        STRONG,
        r"(spotify|apple podcasts?|overcast|pocket casts|stitcher)",
    ),
    (
        "podcast:named",
        "podcast",
        STRONG,
        r"(lennys?|lenny s|my first million|mfm|tim ferriss|ferriss|lex fridman|hard fork|"
        r"how i built this|diary of a ceo|software engineering daily|se daily|changelog|"
        r"syntax fm|a16z|20 ?vc|twenty minute vc|marketing school|exit five|revenue builders|"
        r"presidents club|b2b growth|saas podcast|darknet diaries|latent space|no priors|"
        r"masters of scale|acquired fm|all in pod(cast)?|the all in|huberman|rogan|"
        r"freakonomics|planet money|data skeptic|practical ai|data engineering podcast)",
    ),
    ("podcast:listen", "podcast", WEAK, r"(listen\w*|audio|heard you on|radio show|the \w+ show)"),
    # ------------------------------------------------------------ ai assistant
    (
        "ai:chatgpt",
        "ai_assistant",
        STRONG,
        r"(chat ?gpt|chat ?gtp|chat ?gbt|gpt ?\d?o?|gpt4o?|gpt5|openai|open ai|o1|o3)",
    ),
    ("ai:perplexity", "ai_assistant", STRONG, r"(perplexity|pplx)"),
    ("ai:claude", "ai_assistant", STRONG, r"(claude|anthropic)"),
    ("ai:gemini", "ai_assistant", STRONG, r"(gemini|bard)"),
    ("ai:copilot", "ai_assistant", STRONG, r"(copilot|co pilot|bing chat)"),
    (
        "ai:other_llm",
        "ai_assistant",
        STRONG,
        r"(grok|deepseek|mistral|le chat|meta ai|llama|phind|you com|llms?|chatbots?|chat bots?)",
    ),
    (
        "ai:generic",
        "ai_assistant",
        STRONG,
        r"((asked|ask|asking|an|the|some|una|une|l|eine|die|einer|the) (ai|ia|ki)|"
        r"(ai|a i) (assistant|chat ?bot|chat|search|overview|overviews|answer|tool said|"
        r"recommend\w*|suggest\w*|model)|asked chat|artificial intelligence|"
        r"inteligencia artificial|intelligence artificielle|kunstliche intelligenz)",
    ),
    ("ai:token", "ai_assistant", WEAK, r"(ai|ia|ki)"),
    # ------------------------------------------------------------ social
    ("social:linkedin", "social", STRONG, r"(linkedin|linked in)"),
    (
        "social:twitter",
        "social",
        STRONG,
        r"(twitter|tweets?|tweeted|x com|on x|x twitter|twitter x|from x|via x)",
    ),
    ("social:youtube", "social", STRONG, r"(youtube|youtuber|yt)"),
    (
        "social:instagram",
        "social",
        STRONG,
        r"(instagram|insta|ig|tiktok|tik tok|facebook|fb|threads|bluesky|mastodon|snapchat)",
    ),
    (
        "social:social",
        "social",
        STRONG,
        r"(social media|socials|social|influencers?|creators?|redes sociales|reseaux sociaux|"
        r"soziale medien|social network)",
    ),
    ("social:post", "social", WEAK, r"(a post|posts?|posted|video|videos|reel|feed|shorts)"),
    # ------------------------------------------------------------ search
    ("search:google", "search", STRONG, r"(google|googled|googling|googel|gegoogelt)"),
    (
        "search:engines",
        "search",
        STRONG,
        r"(bing|duckduckgo|duck duck go|ddg|yahoo|ecosia|kagi|brave search|baidu|yandex)",
    ),
    (
        "search:search",
        "search",
        STRONG,
        r"(search engines?|web search|online search|organic search|search results?|seo|"
        r"top result|first result|first page|searched (online|the web|the internet|for)|"
        r"searching (online|the web|the internet|for)|busqueda|buscando|busque|recherche|suche|"
        r"gesucht|ricerca|pesquisa)",
    ),
    (
        "search:weak",
        "search",
        WEAK,
        r"(search|searched|searching|online|internet|web|looked (it )?up|looked around|"
        r"found you|browsing|researching|research)",
    ),
    # ------------------------------------------------------------ review sites
    ("review:g2", "review_site", STRONG, r"(g2|g 2|g2crowd|g2 crowd|gtwo)"),
    ("review:capterra", "review_site", STRONG, r"capterra"),
    ("review:trustradius", "review_site", STRONG, r"(trust ?radius)"),
    (
        "review:others",
        "review_site",
        STRONG,
        r"(getapp|software advice|softwareadvice|gartner|peer insights|trustpilot|sourceforge|"
        r"saasworthy|crozdesk|alternativeto|stackshare|clutch|forrester|online reviews?|"
        r"reviews? online|user reviews?|customer reviews?|"
        r"reviews? sites?|comparison sites?|software directory|bewertungen|avis clients|resenas)",
    ),
    (
        "review:weak",
        "review_site",
        WEAK,
        r"(reviews?|reviewed|ratings?|rated|comparison|compared|ranking|stars)",
    ),
    # ------------------------------------------------------------ events
    (
        "event:conference",
        "event",
        STRONG,
        r"(conferences?|conf|summit|expo|trade ?shows?|trade ?fairs?|booth|conventions?|"
        r"webinars?|web seminar|meetups?|meet up|workshops?|events?|keynote|hackathon|"
        r"roundtable|road ?shows?|kick ?off|conferencia|konferenz|messe|feria|salon|salao|fiera|evento|evenement|"
        r"veranstaltung|seminario|seminaire|seminar)",
    ),
    (
        "event:named",
        "event",
        STRONG,
        r"(saastr|dreamforce|inbound|re ?invent|aws summit|web ?summit|sxsw|"
        r"mwc|kubecon|pycon|google next|ignite|black ?hat|defcon|vivatech|slush|"
        r"tech week|money ?20 ?20|mozcon|saas connect|big data london|data council|gitex|"
        r"dmexco|cebit|shoptalk|nrf|forward ?\d\d|snowflake summit|data ai summit)",
    ),
    (
        "event:talk",
        "event",
        WEAK,
        r"(talk|presentation|speaker|speaking|spoke|stage|panel|demo day)",
    ),
    # ------------------------------------------------------------ content
    (
        "content:content",
        "content",
        STRONG,
        r"(blogs?|blog ?posts?|articles?|newsletters?|e ?books?|white ?papers?|case stud(y|ies)|"
        r"guides?|reports?|content|substack|medium article|on medium|tutorials?|infographic|"
        r"templates?|listicle|write ?up|press|magazine|publication|techcrunch|forbes|wired|"
        r"the verge|hbr|harvard business review|stratechery|morning brew|a book|articulo|"
        r"artikel|articolo|boletin)",
    ),
    ("content:read", "content", WEAK, r"(read|reading|docs|documentation|news)"),
    # ------------------------------------------------------------ paid ads
    (
        "paid:ad",
        "paid_ads",
        STRONG,
        r"(ads?|adverts?|advertisements?|advertising|advertisment|sponsored|promoted|banners?|"
        r"billboards?|commercials?|retargeting|adwords|ppc|paid|(an|your|the|some) adds?|"
        r"adds on|anuncios?|publicidad|publicite|publicites|werbung|anzeigen?|pubblicita|"
        r"annuncio|advertentie)",
    ),
    # ------------------------------------------------------------ partners
    (
        "partner:partner",
        "partner",
        STRONG,
        r"(partners?|partnr|resellers?|var|integrators?|consultants?|consultancy|agency(?! owners)|"
        r"agencies|marketplace|app ?exchange|app store|affiliates?|distributors?|msp|"
        r"it provider|socios?|partenaires?|revendedor|revendeur|distribuidor|consultor|"
        r"consultora|berater|agencia|agence|agentur|deloitte|accenture|kpmg|pwc)",
    ),
    ("partner:integration", "partner", WEAK, r"(integrations?)"),
    # ------------------------------------------------------------ other (named, outside the taxonomy)
    (
        "other:outbound",
        "other",
        STRONG,
        r"(sales ?(rep|team|person|guy)|cold (email|call|outreach|e mail)|outbound|sdr|bdr|"
        r"reached out|called (me|us)|emailed (me|us)|previous (job|company|employer)|"
        r"(last|old|former) (job|company|employer)|used (it|you) (before|at))",
    ),
    (  # bought through a formal process, or inherited: a route, not a channel
        "other:procurement",
        "other",
        STRONG,
        r"(rfps?|rfis?|rfqs?|request for (proposals?|quotes?|information)|tenders?|"
        r"procurement|purchasing (team|department|dept|process)|sourcing team|"
        r"vendor (evaluation|selection|review|assessment|shortlist|comparison)|shortlist(ed)?|"
        r"(part of|through|via|after|during|with) (an|the|our|a) (acquisition|merger)|"
        r"(company|firm|business|startup) (we|i) (acquired|bought|merged with)|"
        r"(acquired|merged) (company|business|firm|startup)|"
        r"already (here|there|in place|in use|being used|used) (when|before) (i|we)|"
        r"(was|were) (already )?(here|in place) (before|when) (i|we)|"
        r"inherited( it)?|came with the (job|role|company|acquisition))",
    ),
]

# Phrases that say "I don't know": the answer is ``other`` with a low confidence unless
# a channel is also named ("not sure, maybe Google?" is search).
UNKNOWN_PATTERN = (
    r"(dont (remember|recall|know)|do not (remember|recall|know)|cant (remember|recall|say)|"
    r"cannot (remember|recall)|not sure|no idea|idk|dunno|no clue|forgot|forget|unsure|"
    r"unknown|n a|na|none|nothing|who knows|somewhere|no recuerdo|ni idea|"
    r"je ne sais (pas|plus)|aucune idee|keine ahnung|weiss nicht|weis nicht|non ricordo|"
    r"nao lembro|just knew|always known|been around|already knew|not applicable|no se)"
)

# Tokens that unknown words are corrected towards (misspelled brands and channel words).
FUZZY_TARGETS: dict[str, str] = {
    w: w
    for w in (
        "chatgpt gpt perplexity claude gemini copilot openai anthropic deepseek "
        "capterra trustradius trust radius getapp trustpilot gartner sourceforge "
        "linkedin twitter youtube instagram facebook tiktok "
        "reddit discord slack community forum subreddit "
        "podcast podcasts episode spotify "
        "google googled googling duckduckgo search searched internet "
        "conference webinar meetup tradeshow summit booth event workshop "
        "newsletter article blog ebook whitepaper "
        "advertisement advert sponsored billboard "
        "partner reseller consultant agency marketplace integrator "
        "procurement tender vendor evaluation shortlist acquisition merger inherited already "
        "colleague colleagues coworker friend friends referral referred recommended "
        "recommendation recommend someone "
        "remember recall chatbot shopify hubspot salesforce zapier notion stripe"
    ).split()
}
