//! Stop words: the words that end a candidate keyword, per language.
//!
//! The lists start from the Snowball project's stop-word lists (function words) and add, for
//! English, the verbs, adverbs and vague nouns that glue sentences together in blog posts
//! and abstracts ("using", "based", "however", "thing"). Words that are generic within one
//! hub but not in general ("paper", "result") are left to document frequency.

use whatlang::Lang;

/// English verbs that are rarely nouns or adjectives in a keyword. Their inflections (`-s`,
/// `-ed`, `-ing`) are added by [`inflect`]; irregular forms are listed with them.
pub(crate) const ENGLISH_VERBS: &str = "
accept achieve acquire adopt affect agree allege allow alter analyse analyze announce apply
approach
arise arrive assess assign assume attain attempt avoid become began begin begun believe
belong bring brought carry cause choose chose chosen claim combine compare comprise conclude
conduct confirm consider consist constitute construct contain continue contribute
correspond create decide demonstrate denote depend derive describe determine develop differ
discover discuss eliminate employ enable encounter enhance ensure establish evaluate examine
exceed exhibit exist expect explain explore extend facilitate found gain gave generate
grew grow grown guarantee happen held hold hope identify ignore illustrate implement imply
improve include incorporate indicate induce involve kept led leave left maintain meet met
mention minimize modify motivate obtain occur outperform perform permit possess predict
prefer prepare prevent produce propose prove pursue raise realize receive recognize reduce
refer reflect regard relate rely remain remove render replace represent require resolve
respond reveal rose satisfy seek sought spend spent suffer suggest suppose tell told took
undergo underwent utilise utilize validate vary verify
";

/// `-s`, `-ed` and `-ing` forms of a regular verb, with the usual spelling changes
/// (`apply` -> `applies`, `applied`; `occur` -> `occurred`; `derive` -> `deriving`).
pub(crate) fn inflect(base: &str) -> Vec<String> {
    let mut out = vec![base.to_owned()];
    let b = base.as_bytes();
    let n = b.len();
    if n < 3 {
        return out;
    }
    let vowel = |c: u8| matches!(c, b'a' | b'e' | b'i' | b'o' | b'u');
    let last = b[n - 1];
    if last == b'y' && !vowel(b[n - 2]) {
        let stem = &base[..n - 1];
        out.push(format!("{stem}ies"));
        out.push(format!("{stem}ied"));
        out.push(format!("{base}ing"));
    } else if last == b'e' {
        let stem = &base[..n - 1];
        out.push(format!("{base}s"));
        out.push(format!("{base}d"));
        if base.ends_with("ee") {
            out.push(format!("{base}ing"));
        } else {
            out.push(format!("{stem}ing"));
        }
    } else {
        let sibilant = base.ends_with('s')
            || base.ends_with('x')
            || base.ends_with('z')
            || base.ends_with("ch")
            || base.ends_with("sh");
        out.push(if sibilant {
            format!("{base}es")
        } else {
            format!("{base}s")
        });
        // Doubled final consonant after a stressed short vowel: occur, refer, permit.
        let doubled = matches!(base, "occur" | "refer" | "prefer" | "permit" | "confer");
        let stem = if doubled {
            format!("{base}{}", char::from(last))
        } else {
            base.to_owned()
        };
        out.push(format!("{stem}ed"));
        out.push(format!("{stem}ing"));
    }
    out
}

/// Languages with a stop-word list. Others are tokenised the same way but only document
/// frequency tells common words from keywords.
pub(crate) fn words_for(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Eng => ENGLISH,
        Lang::Fra => FRENCH,
        Lang::Deu => GERMAN,
        Lang::Spa => SPANISH,
        Lang::Ita => ITALIAN,
        Lang::Por => PORTUGUESE,
        Lang::Nld => DUTCH,
        _ => return None,
    })
}

/// English function words, contractions, glue verbs and adverbs, vague nouns.
pub(crate) const ENGLISH: &str = "
a about above according accordingly across actually after afterwards again against ago ahead
all almost alone along already also although always am among amongst an and another any
anybody anyhow anyone anything anyway anyways anywhere apart appear appears appropriate are
aren't around as aside ask asked asking associated at available away awfully

back based be became because become becomes becoming been before beforehand behind being
believe below beside besides best better between beyond both brief bring brings but by

came can can't cannot cant cause causes certain certainly change changed changes clearly
co com come comes coming concerning consequently consider considering contain containing
contains corresponding could couldn't course currently

day days definitely described despite did didn't different do does doesn't doing don't
done down downwards during

e.g each easily eg eight either else elsewhere enough entirely especially et etc even
ever every everybody everyone everything everywhere ex exactly example except

far few fifth first five followed following follows for former formerly forth four from
further furthermore

gave get gets getting give given gives giving go goes going gone got gotten great

had hadn't happens hardly has hasn't have haven't having he he'd he'll he's hello help
hence her here here's hereafter hereby herein hereupon hers herself hi him himself his
hither hopefully how how's howbeit however hundred

i i'd i'll i'm i've i.e ie if ignored immediate in inasmuch inc indeed indicate indicated
indicates inner insofar instead into inward is isn't it it'd it'll it's its itself

just keep keeps kept know known knows

largely last lately later latter latterly least less lest let let's like liked likely
little look looking looks lot lots ltd

made mainly make makes making many may maybe me mean meanwhile merely might mine more
moreover most mostly much must mustn't my myself

name namely nd near nearly necessary need needed needs neither never nevertheless new next
nine no nobody non none noone nor normally not nothing novel now nowhere

obviously of off often oh ok okay old on once one ones only onto or other others otherwise
ought our ours ourselves out outside over overall own

particular particularly per perhaps placed please plus possible possibly presumably
previously probably provide provided provides providing put

quite rather really reasonably recent recently regarding regardless regards relatively
respectively right

said same saw say saying says second secondly see seeing seem seemed seeming seems seen
self selves sensible sent serious seriously seven several shall shan't she she'd she'll
she's should shouldn't show showed shown shows simple since six so some somebody somehow someone
something sometime sometimes somewhat somewhere soon sorry specified specify specifying
still stuff sub such sup sure

take taken takes taking tell tends than thank thanks thanx that that's thats the their
theirs them themselves then thence there there's thereafter thereby therefore therein
theres thereupon these they they'd they'll they're they've thing things think third this
thorough thoroughly those though three through throughout thru thus to today together too
took toward towards tried tries truly try trying twice two

un under unfortunately unless unlikely until unto up upon us use used useful uses using
usually

value various very via viz vs

want wants was wasn't way ways we we'd we'll we're we've welcome well went were weren't
what what's whatever when whence whenever where where's whereafter whereas whereby wherein
whereupon wherever whether which while whither who who's whoever whole whom whose why will
willing wish with within without won't wonder would wouldn't

yes yet you you'd you'll you're you've your yours yourself yourselves zero
";

pub(crate) const FRENCH: &str = "
a ai aie aient aies ait alors as au aucun aucune aujourd'hui auquel aura aurai auraient
aurais aurait auras aurez auriez aurions aurons auront aussi autre autres aux auxquelles
auxquels avaient avais avait avant avec avez aviez avions avoir avons ayant ayez ayons bien
c c'est ça car ce ceci cela celle celles celui cependant ces cet cette ceux chaque chez
comme comment d d'un d'une dans de des depuis donc dont du elle elles en encore entre es
est et étaient étais était étant été être eu eue eues eûmes eurent eus eusse eussent eut
eux faire fait fois furent fus fut ici il ils j j'ai je jusqu jusque l l'on la le les leur
leurs lors lorsque lui m ma mais me même mêmes mes moi moins mon n ne ni nos notre nous on
ont ou où par parce pas peu peut plus pour pourquoi qu qu'il quand que quel quelle
quelles quels qui s sa sans se sera serait ses si sinon soit sommes son sont sous suis sur
t ta te tes toi ton tous tout toute toutes très tu un une unes uns vers vos votre vous y
";

pub(crate) const GERMAN: &str = "
aber alle allem allen aller alles als also am an ander andere anderem anderen anderer
anderes anderm andern anderr anders auch auf aus bei bin bis bist da damit dann das dass
daß dasselbe dazu dein deine deinem deinen deiner deines dem demselben den denn denselben
der derer derselbe derselben des desselben dessen dich die dies diese dieselbe dieselben
diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines
einig einige einigem einigen einiger einiges einmal er es etwas euch euer eure eurem
euren eurer eures für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich
ihm ihn ihnen ihr ihre ihrem ihren ihrer ihres im in indem ins ist jede jedem jeden jeder
jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner keines
können könnte machen man manche manchem manchen mancher manches mein meine meinem meinen
meiner meines mich mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr
sein seine seinem seinen seiner seines selbst sich sie sind so solche solchem solchen
solcher solches soll sollte sondern sonst über um und uns unsere unserem unseren unser
unseres unter viel vom von vor während war waren warst was weg weil weiter welche welchem
welchen welcher welches wenn werde werden wie wieder will wir wird wirst wo wollen wollte
würde würden zu zum zur zwar zwischen
";

pub(crate) const SPANISH: &str = "
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde
durante e el él ella ellas ellos en entre era erais eran eras eres es esa esas ese eso
esos esta está estaba estaban estado estamos estan están estar estas este esto estos
estoy fue fueron fui fuimos ha había habían han has hasta hay la las le les lo los más me
mi mis mucho muchos muy nada ni no nos nosotras nosotros nuestra nuestras nuestro
nuestros o os otra otras otro otros para pero poco por porque que qué quien quienes se
sea sean ser será si sí sido siempre sin sobre sois solo somos son soy su sus también
tanto te tenemos tener tengo ti tiene tienen todo todos tu tus tú un una uno unos vosotras
vosotros vuestra vuestras vuestro vuestros y ya yo
";

pub(crate) const ITALIAN: &str = "
a abbia abbiamo abbiano ad agli ai al alla alle allo anche avemmo avendo aveva avevano
avete avevi avevo avrà avrebbe c che chi ci coi col come con contro cui da dagli dai dal
dalla dalle dallo degli dei del della delle dello di dove e è ebbe ebbero ed era erano
eravamo essere fa fare fosse fu fummo gli ha hai hanno ho i il in io l la le lei li lo
loro lui ma mi mia mie miei mio ne negli nei nel nella nelle nello noi non nostra nostre
nostri nostro o per perché più quale quando quanta quante quanti quanto quella quelle
quelli quello questa queste questi questo qui se sei si sia siamo siano sono sta stati
stato su sua sue sugli sui sul sulla sulle sullo suo suoi ti tra tu tua tue tuo tuoi
tutti tutto un una uno vi voi
";

pub(crate) const PORTUGUESE: &str = "
a à ao aos aquela aquelas aquele aqueles aquilo as às até com como da das de dela delas
dele deles depois do dos e é ela elas ele eles em entre era eram essa essas esse esses
esta está estamos estão estas estava estavam este estes eu foi fomos for foram fosse
há isso isto já lhe lhes mais mas me mesmo meu meus minha minhas muito na não nas nem no
nos nós nossa nossas nosso nossos num numa o os ou para pela pelas pelo pelos por qual
quando que quem se sem ser será seu seus só sua suas também te tem têm tinha tu tua
tuas um uma você vocês vos
";

pub(crate) const DUTCH: &str = "
aan al alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door
dus een eens en er ge geen geweest haar had heb hebben heeft hem het hier hij hoe hun
iemand iets ik in is ja je kan kon kunnen maar me meer men met mij mijn moet na naar niet
niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit uw van
veel voor want waren was wat werd wezen wie wil worden wordt zal ze zelf zich zij zijn zo
zonder zou
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections() {
        assert_eq!(
            inflect("apply"),
            ["apply", "applies", "applied", "applying"]
        );
        assert_eq!(
            inflect("derive"),
            ["derive", "derives", "derived", "deriving"]
        );
        assert_eq!(
            inflect("occur"),
            ["occur", "occurs", "occurred", "occurring"]
        );
        assert_eq!(
            inflect("discuss"),
            ["discuss", "discusses", "discussed", "discussing"]
        );
        assert_eq!(inflect("guarantee")[3], "guaranteeing");
    }

    #[test]
    fn lists_are_lower_case() {
        for list in [
            ENGLISH,
            ENGLISH_VERBS,
            FRENCH,
            GERMAN,
            SPANISH,
            ITALIAN,
            PORTUGUESE,
            DUTCH,
        ] {
            for w in list.split_whitespace() {
                assert_eq!(w, w.to_lowercase(), "{w}");
            }
        }
    }
}
