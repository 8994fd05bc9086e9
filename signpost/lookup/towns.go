package lookup

// towns maps UK towns and cities people name in a text to a central
// postcode district, so that "Cardiff men" searches near CF10. The
// districts are the ones covering each centre (Royal Mail outward codes,
// public knowledge); Northern Ireland's resolve through the districts its
// services list. Never mutated.
var towns = map[string]string{
	"london": "WC2N", "birmingham": "B1", "manchester": "M1", "liverpool": "L1", "leeds": "LS1",
	"sheffield": "S1", "bristol": "BS1", "newcastle": "NE1", "newcastle upon tyne": "NE1", "nottingham": "NG1",
	"leicester": "LE1", "coventry": "CV1", "southampton": "SO14", "portsmouth": "PO1", "brighton": "BN1",
	"plymouth": "PL1", "exeter": "EX1", "norwich": "NR1", "cambridge": "CB2", "oxford": "OX1",
	"reading": "RG1", "york": "YO1", "hull": "HU1", "bradford": "BD1", "stoke": "ST1", "stoke on trent": "ST1",
	"derby": "DE1", "wolverhampton": "WV1", "sunderland": "SR1", "middlesbrough": "TS1", "preston": "PR1",
	"blackpool": "FY1", "bolton": "BL1", "luton": "LU1", "milton keynes": "MK9", "northampton": "NN1",
	"peterborough": "PE1", "ipswich": "IP1", "swindon": "SN1", "gloucester": "GL1", "cheltenham": "GL50",
	"bath": "BA1", "bournemouth": "BH1", "canterbury": "CT1", "maidstone": "ME14", "chelmsford": "CM1",
	"colchester": "CO1", "lincoln": "LN1", "carlisle": "CA1", "worcester": "WR1", "hereford": "HR1",
	"shrewsbury": "SY1", "truro": "TR1", "winchester": "SO23", "salisbury": "SP1", "durham": "DH1",
	"lancaster": "LA1", "warrington": "WA1", "chester": "CH1", "telford": "TF1", "southend": "SS1",
	"doncaster": "DN1", "wakefield": "WF1", "halifax": "HX1", "huddersfield": "HD1", "oldham": "OL1",
	"stockport": "SK1", "wigan": "WN1", "blackburn": "BB1",
	"cardiff": "CF10", "caerdydd": "CF10", "swansea": "SA1", "abertawe": "SA1", "newport": "NP20",
	"wrexham": "LL11", "bangor": "LL57", "aberystwyth": "SY23",
	"edinburgh": "EH1", "glasgow": "G1", "aberdeen": "AB10", "dundee": "DD1", "inverness": "IV1",
	"stirling": "FK8", "perth": "PH1",
	"belfast": "BT1", "derry": "BT48", "londonderry": "BT48", "lisburn": "BT28", "newry": "BT34",
}
